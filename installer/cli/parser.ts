/**
 * argv parsed from the command registry: every command's options, help,
 * examples and subcommands come from its module (commands/*.ts), so help and
 * completion follow the list. A plain command line is parsed here
 * (plain-argv.ts); yargs, loaded only then, parses the rest, prints help and
 * words every parse error. Parsing only: cli.ts runs what was parsed.
 */
import type { Argv } from 'yargs';
import { UsageError } from '../model/errors.js';
import { VERSION } from '../lib/version.js';
import { commands, COMMANDS } from './commands/index.js';
import { dashValue } from './habits.js';
import { dryRunOption, fixFor } from './options.js';
import { parsePlain } from './plain-argv.js';
import { safetyOptions } from './safety.js';
import { commandName, type CommandSpec, type OptionSet, type Parsed } from './types.js';

type Yargs = typeof import('yargs').default;

/** Options every command takes. */
const globalOptions: OptionSet = {
  options: {
    root: {
      type: 'string',
      default: '/',
      describe: 'Resolve every path bridgectl reads or writes under DIR (paths written into files stay as the server sees them)',
      requiresArg: true,
    },
    json: { type: 'boolean', default: false, describe: 'Print one JSON document on stdout, nothing else (docs/json.md; JSON Schema: docs/bridgectl.schema.json)' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Print nothing but errors (doctor: failed checks only)' },
  },
};

function withOptionSets<T>(y: Argv<T>, sets: readonly OptionSet[]): Argv<T> {
  let out = y;
  for (const set of sets) {
    out = out.options(set.options) as Argv<T>;
    if (set.group !== undefined) out = out.group(Object.keys(set.options), set.group);
  }
  return out;
}

/**
 * The shared sets that apply to a command, after its own: --dry-run and the
 * write-safety options only where something may be written (a command that
 * writes elsewhere, render --out, lists --dry-run itself); --root, --json,
 * --quiet everywhere.
 */
export function sharedSets(spec: CommandSpec): OptionSet[] {
  return [...writeSets(spec), globalOptions];
}

function writeSets(spec: CommandSpec): OptionSet[] {
  return spec.writes && spec.subcommands === undefined ? [dryRunOption, safetyOptions] : [];
}

/** A command's builder: positionals, options, subcommands, examples, epilogue, in the order help shows them. */
function build<T>(y: Argv<T>, spec: CommandSpec): Argv<T> {
  let out = y;
  for (const [name, options] of Object.entries(spec.positionals ?? {})) out = out.positional(name, options);
  out = withOptionSets(out, [...spec.options, ...writeSets(spec)]);
  for (const sub of spec.subcommands ?? []) out = out.command(sub.command, sub.describe, (c) => build(c, sub));
  if (spec.demandSubcommand !== undefined) out = out.demandCommand(1, spec.demandSubcommand);
  for (const [example, meaning] of spec.examples ?? []) out = out.example(example, meaning);
  if (spec.epilogue !== undefined) out = out.epilogue(spec.epilogue);
  return out;
}

/** What argv names: the command's words and where they stand (`channel set`: two), or no command. */
export interface Located {
  spec: CommandSpec;
  /** Its options and those of the commands it is a subcommand of (`channel`'s --site), its own first. */
  options: OptionSet[];
  words: string[];
  /** argv without the command's words. */
  rest: string[];
}

/**
 * Find the command argv names, as yargs would: options and their values are
 * skipped (an array option takes every word up to the next option), the first
 * word left is the command, and the next one its subcommand if it has any.
 * Only a command that runs (no subcommands of its own) is located.
 */
export function locateCommand(argv: readonly string[]): Located | undefined {
  const { spec, options, words, at, complete } = walk(argv);
  if (!complete || spec === undefined || spec.subcommands !== undefined) return undefined;
  return { spec, options, words, rest: argv.filter((_, i) => !at.includes(i)) };
}

/** The command words argv names, as far as they name one (`channel` for `channel sett`); none for no command. */
export function commandWords(argv: readonly string[]): string[] {
  return walk(argv).words;
}

function walk(argv: readonly string[]): { spec?: CommandSpec; options: OptionSet[]; words: string[]; at: number[]; complete: boolean } {
  const words: string[] = [];
  const at: number[] = [];
  let among: readonly CommandSpec[] | undefined = commands;
  let spec: CommandSpec | undefined;
  const options: OptionSet[] = [];
  for (let i = 0; i < argv.length && among !== undefined; i++) {
    const word = argv[i] as string;
    if (word === '--') break;
    if (word.startsWith('-') && word.length > 1) {
      const values = word.includes('=') ? undefined : VALUES.get(word.replace(/^-+/, ''));
      if (values === 'one') i++;
      else if (values === 'many') while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('-')) i++;
      continue;
    }
    const next: CommandSpec | undefined = among.find((c) => commandName(c) === word);
    if (next === undefined) return { ...(spec ? { spec } : {}), options, words, at, complete: false };
    spec = next;
    words.push(word);
    at.push(i);
    options.unshift(...next.options);
    among = next.subcommands;
  }
  return { ...(spec ? { spec } : {}), options, words, at, complete: true };
}

/** How many words an option name (or alias) takes after it; undefined for a flag or an unknown name. */
export function optionValues(name: string): 'one' | 'many' | undefined {
  return VALUES.get(name);
}

/** How many words each option name (and alias) takes after it, from every option set in the registry. */
const VALUES: ReadonlyMap<string, 'one' | 'many'> = new Map(
  [globalOptions, dryRunOption, safetyOptions, ...allCommands(commands).flatMap((c) => c.options)].flatMap((set) =>
    Object.entries(set.options).flatMap(([name, o]) => {
      if (o.type === 'boolean' || o.type === 'count') return [];
      const values = o.array === true || o.type === 'array' ? 'many' : 'one';
      const aliases = o.alias === undefined ? [] : [o.alias].flat();
      return [name, ...aliases].map((n) => [n, values] as const);
    }),
  ),
);

function allCommands(specs: readonly CommandSpec[]): CommandSpec[] {
  return specs.flatMap((c) => [c, ...allCommands(c.subcommands ?? [])]);
}

/** What argv asks for: a command to run with its options, or the text yargs made instead (--help, --version, completion). */
export type CommandLine = { parsed: Parsed } | { output: string };

/**
 * Parse argv. A run that names a command gets a flat parser of that
 * command's options alone: a plain line is parsed without yargs, any
 * other by yargs with only those options (it then neither builds the other
 * commands nor parses twice nor renders help it will not print). Anything
 * else (no command, a group such as `channel`, a mistyped one, --help
 * alone, completion) gets the full parser, whose errors and help name
 * every command. `plain: false` leaves every line to yargs (the tests
 * compare the two).
 */
export async function parseCommandLine(argv: string[], { plain = true } = {}): Promise<CommandLine> {
  const dashed = dashValue(argv, optionValues);
  if (dashed !== undefined) throw new UsageError(dashed.message, dashed.hint);
  const found = locateCommand(argv);
  // completion prints yargs' own script while parsing: the full parser has it.
  const located = found?.spec.duringParse ? undefined : found;
  const parsed = plain && located ? parsePlain(located.rest, [...located.options, ...sharedSets(located.spec)]) : undefined;
  if (located && parsed) return { parsed: withPositionals(located, parsed) };
  const yargs = (await import('yargs')).default;
  const parser = located ? commandParser(yargs, located) : fullParser(yargs, argv);
  let output = '';
  const args = (await parser.parseAsync(located?.rest ?? argv, {}, (_err, _args, text) => {
    output = text;
  })) as Record<string, unknown>;
  if (output) return { output };
  return { parsed: located ? withPositionals(located, args) : (args as unknown as Parsed) };
}

/** A located command's parse: its words as `_`, its positionals by name (the parse left them in `_`). */
function withPositionals(located: Located, args: Record<string, unknown>): Parsed {
  const given = args._ as (string | number)[];
  return { ...args, ...positionalsOf(located.spec, located.words, given), _: located.words } as unknown as Parsed;
}

function commandParser(yargs: Yargs, { spec, words, rest, options }: Located): Argv {
  const usage = [...words, ...Object.keys(spec.positionals ?? {}).map((name) => `<${name}>`)].join(' ');
  let parser = withOptionSets(yargs(rest).scriptName('bridgectl').usage(`$0 ${usage} [options]\n\n${spec.describe}`), [...options, ...sharedSets(spec)]);
  for (const [example, meaning] of spec.examples ?? []) parser = parser.example(example, meaning);
  if (spec.epilogue !== undefined) parser = parser.epilogue(spec.epilogue);
  // Only options are yargs' to check: positionals are checked against the command's own (positionalsOf).
  return finish(parser).strictOptions();
}

/** A located command's positionals (`channel set <name>`) from the words left in `_`: each one given, nothing more. */
export function positionalsOf(spec: CommandSpec, words: string[], given: readonly (string | number)[]): Record<string, string> {
  const names = Object.keys(spec.positionals ?? {});
  const extra = given.slice(names.length);
  if (extra.length > 0) throw new UsageError(`Unknown argument${extra.length > 1 ? 's' : ''}: ${extra.join(', ')}`);
  const missing = names.slice(given.length);
  if (missing.length > 0) throw new UsageError(`bridgectl ${words.join(' ')} needs ${missing.map((n) => `<${n}>`).join(' ')}`);
  return Object.fromEntries(names.map((name, i) => [name, String(given[i])]));
}

function fullParser(yargs: Yargs, argv: string[]): Argv {
  let parser = withOptionSets(yargs(argv), [globalOptions])
    .scriptName('bridgectl')
    .usage('$0 <command> [options]\n\nInstall and upgrade the WordPress mu-plugin config that lets a site dispatch messages to chat-bridge CLIs.');
  for (const spec of commands) {
    const during = spec.duringParse;
    parser = parser.command(spec.command, spec.describe, (y) => build(y, spec), during ? () => during(parser) : undefined);
  }
  // Shells ask for completions through a hidden command; what it offers comes from the commands above.
  return finish(
    parser
      .completion('__complete', false)
      .demandCommand(1, `name a command: ${COMMANDS.join(', ')}`)
      .recommendCommands()
      .strict()
      .epilogue('Exit codes: 0 ok, 1 failure (nothing written unless the message says so; doctor: a check failed), 2 drift (check), 3 commit incomplete (the message names the files written), 130 interrupted.'),
  );
}

function finish(parser: Argv): Argv {
  return parser
    .version(VERSION)
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .wrap(null)
    .exitProcess(false)
    .fail((message, err) => {
      // yargs' own parse errors (YError: an option without its value) are the operator's mistake, not a bug.
      if (err && err.name !== 'YError') throw err;
      const text = usageMessage(err?.message ?? message);
      throw new UsageError(text, fixFor(text));
    });
}

/** yargs' wording, said as the option the operator typed. */
function usageMessage(message: string): string {
  const missing = /^Not enough arguments following: (.+)$/.exec(message)?.[1];
  // yargs puts a demanded option's own message on a second line: the error stays one line.
  return missing === undefined ? message.split('\n').join('; ') : `${missing.length === 1 ? '-' : '--'}${missing} needs a value`;
}
