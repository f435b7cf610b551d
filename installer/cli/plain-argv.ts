/**
 * The command line of a located command, parsed from the registry's option
 * sets without yargs, when it is plain: `--name value`, `--name=value`,
 * `--flag`, `--no-flag`, `-q`, an array option's values, positional words.
 * The result is what yargs would give for the same words
 * (test/unit/cli/plain-argv.test.ts holds the two side by side).
 *
 * Anything else gives undefined and yargs parses the line: help, version,
 * an unknown or misspelt option, a value yargs would convert or refuse, a
 * form bridgectl's users rarely type. yargs stays the one author of help
 * and of every parse error, and is loaded only for them: it is about a
 * third of a run's start (docs/performance.md).
 */
import type { Options } from 'yargs';
import type { OptionSet } from './types.js';

type Value = string | number | boolean | string[];

/** argv (without the command's words) parsed against the option sets, or undefined when yargs must parse it. */
export function parsePlain(argv: readonly string[], sets: readonly OptionSet[]): Record<string, unknown> | undefined {
  const options = new Map<string, Options>(sets.flatMap((set) => Object.entries(set.options)));
  const byName = new Map<string, string>();
  for (const [name, o] of options) {
    byName.set(name, name);
    for (const alias of [o.alias ?? []].flat()) byName.set(alias.length === 1 ? alias : name, name);
  }
  const given = new Map<string, Value>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (!word.startsWith('-')) {
      // yargs turns a number-like word into a number (and `channel set 007` then names channel "7"),
      // and a last `help` into --help.
      if (isNumberLike(word) || word === 'help') return undefined;
      positionals.push(word);
      continue;
    }
    const m = /^--(no-)?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(word);
    const [, negated, typed, inline] = m ?? [, undefined, /^-([a-z])$/.exec(word)?.[1], undefined];
    const name = typed === undefined ? undefined : byName.get(typed);
    const o = name === undefined ? undefined : options.get(name);
    if (name === undefined || o === undefined || (given.has(name) && o.array !== true)) return undefined;
    const next = argv[i + 1];
    if (o.type === 'boolean') {
      // `--flag=false`, `--flag true`: yargs' forms, not plain ones.
      if (inline !== undefined || next === 'true' || next === 'false') return undefined;
      given.set(name, !negated);
      continue;
    }
    if (negated) return undefined;
    const values: string[] = [];
    if (inline !== undefined) values.push(inline);
    else if (next !== undefined && !next.startsWith('-')) values.push(argv[++i] as string);
    if (o.array === true) while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('-')) values.push(argv[++i] as string);
    // An empty value: yargs reads `--arg=` at the end of the line as no value at all.
    if (values.length === 0 || values.includes('')) return undefined;
    const value = valueOf(o, values, given.get(name));
    if (value === undefined) return undefined;
    given.set(name, value);
  }
  const out: Record<string, unknown> = { _: positionals };
  for (const [name, o] of options) {
    const value = given.get(name) ?? o.default;
    if (value === undefined) {
      if (o.demandOption !== undefined) return undefined;
      continue;
    }
    // A copy of an array default, as each parse of yargs' is its own.
    for (const key of keysOf(name, o)) out[key] = Array.isArray(value) ? [...value] : value;
  }
  out.$0 = 'bridgectl';
  return out;
}

/** An option's value from the words given for it (joined to what it already has, for an array), or undefined to leave it to yargs. */
function valueOf(o: Options, words: string[], before: Value | undefined): Value | undefined {
  if (o.array === true) {
    // yargs takes each number-like word of an array as a number.
    if (o.type !== 'string' || words.some(isNumberLike) || !words.every((w) => allowed(o, w))) return undefined;
    return [...((before as string[] | undefined) ?? []), ...words];
  }
  if (words.length !== 1) return undefined;
  const word = words[0] as string;
  if (o.type === 'number') {
    if (!/^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(word)) return undefined;
    return coerced(o, Number(word));
  }
  // No type: an option known by its choices alone, each a word yargs leaves a string.
  if (o.type !== 'string' && o.choices === undefined) return undefined;
  if (o.type !== 'string' && isNumberLike(word)) return undefined;
  return allowed(o, word) ? coerced(o, word) : undefined;
}

function allowed(o: Options, word: string): boolean {
  return o.choices === undefined || ([o.choices].flat() as unknown[]).includes(word);
}

/** The option's coerce function applied; undefined when it refuses, so yargs reports it in its words. */
function coerced(o: Options, value: string | number): Value | undefined {
  if (o.coerce === undefined) return value;
  try {
    return o.coerce(value) as Value;
  } catch {
    return undefined;
  }
}

function isNumberLike(word: string): boolean {
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(word) || /^0x[0-9a-f]+$/i.test(word);
}

/** Every key yargs sets for an option: its name, its camelCase form, its aliases. */
function keysOf(name: string, o: Options): string[] {
  const camel = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return [...new Set([name, camel, ...[o.alias ?? []].flat()])];
}
