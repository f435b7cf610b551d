/**
 * yargs, built from the command registry: every command's options, help,
 * examples and subcommands come from its module (commands/*.ts), so help and
 * completion follow the list. Parsing only: cli.ts runs what was parsed.
 */
import yargs, { type Argv } from 'yargs';
import { UsageError } from '../model/errors.js';
import { VERSION } from '../lib/version.js';
import { commands, COMMANDS } from './commands/index.js';
import { withSafetyOptions } from './safety.js';
import type { CommandSpec, OptionSet } from './types.js';

/** Options every command takes. */
const globalOptions: OptionSet = {
  options: {
    root: {
      type: 'string',
      default: '/',
      describe: 'Resolve every path bridgectl reads or writes under DIR (paths written into files stay as the server sees them)',
      requiresArg: true,
    },
    'dry-run': { type: 'boolean', default: false, describe: 'Print a unified diff of what would change; write nothing' },
    json: { type: 'boolean', default: false, describe: 'Print one JSON document on stdout, nothing else (schema: docs/json.md)' },
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

/** A command's builder: positionals, options, subcommands, examples, epilogue, in the order help shows them. */
function build<T>(y: Argv<T>, spec: CommandSpec): Argv<T> {
  let out = y;
  for (const [name, options] of Object.entries(spec.positionals ?? {})) out = out.positional(name, options);
  out = withOptionSets(out, spec.options);
  for (const sub of spec.subcommands ?? []) out = out.command(sub.command, sub.describe, (c) => build(c, sub));
  if (spec.demandSubcommand !== undefined) out = out.demandCommand(1, spec.demandSubcommand);
  for (const [example, meaning] of spec.examples ?? []) out = out.example(example, meaning);
  if (spec.epilogue !== undefined) out = out.epilogue(spec.epilogue);
  return out;
}

export function buildParser(argv: string[]): Argv {
  let parser = withSafetyOptions(withOptionSets(yargs(argv), [globalOptions]))
    .scriptName('bridgectl')
    .usage('$0 <command> [options]\n\nInstall and upgrade the WordPress mu-plugin config that lets a site dispatch messages to chat-bridge CLIs.');
  for (const spec of commands) {
    const during = spec.duringParse;
    parser = parser.command(spec.command, spec.describe, (y) => build(y, spec), during ? () => during(parser) : undefined);
  }
  // Shells ask for completions through a hidden command; what it offers comes from the commands above.
  return parser
    .completion('__complete', false)
    .demandCommand(1, `name a command: ${COMMANDS.join(', ')}`)
    .recommendCommands()
    .strict()
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(null)
    .epilogue('Exit codes: 0 ok, 1 failure (nothing written unless the message says so; doctor: a check failed), 2 drift (check), 3 commit incomplete (the message names the files written), 130 interrupted.')
    .exitProcess(false)
    .fail((message, err) => {
      // yargs' own parse errors (YError: an option without its value) are the operator's mistake, not a bug.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(usageMessage(err?.message ?? message));
    });
}

/** yargs' wording, said as the option the operator typed. */
function usageMessage(message: string): string {
  const missing = /^Not enough arguments following: (.+)$/.exec(message)?.[1];
  return missing === undefined ? message : `${missing.length === 1 ? '-' : '--'}${missing} needs a value`;
}
