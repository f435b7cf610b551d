/**
 * What reaches bridgectl from argv and the environment, checked before
 * yargs sees it, so every value reaches the files byte-exact or is refused.
 *
 * UTF-8: Node decodes argv and the environment lossily: an invalid byte
 * becomes U+FFFD, a different path that would then be written with exit 0.
 * Only a value holding U+FFFD can have been damaged, so only then are its
 * raw bytes consulted (the bin reads them from /proc/self/cmdline and
 * /proc/self/environ; a normal run reads nothing). Where the raw bytes are
 * not available (no /proc, or main() called in-process), a U+FFFD is taken
 * as damage: refusing a literal U+FFFD is the safe mistake.
 *
 * Quotes: yargs-parser strips one pair of matching surrounding quotes from
 * the value of `--name=value` (so `--arg='"{message}"'` arrived as
 * `{message}`), and has no setting to turn that off (yargs-parser 21's
 * processValue; a value given as its own argument is left alone).
 */
import { isUtf8 } from 'node:buffer';
import { UsageError } from '../model/errors.js';

/** The raw bytes of the process's arguments (bridgectl's own, in order) and environment (`NAME=value` entries). */
export interface RawInput {
  argv?: () => readonly Buffer[] | undefined;
  environ?: () => readonly Buffer[] | undefined;
}

const DAMAGE = '\ufffd';

/** Refuse an argument, or a variable bridgectl reads, that is not valid UTF-8, naming the option or variable. */
export function refuseInvalidUtf8(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  names: readonly string[],
  raw: RawInput = {},
): void {
  for (const [i, arg] of argv.entries()) {
    if (!arg.includes(DAMAGE)) continue;
    const all = raw.argv?.();
    const bytes = all && all.length === argv.length ? all[i] : undefined;
    if (bytes !== undefined && isUtf8(bytes)) continue;
    throw new UsageError(`${optionOf(argv, i)} is not valid UTF-8: ${show(bytes, arg)}`, 'bridgectl writes UTF-8 files: pass the value in UTF-8 (rename a file whose name is not)');
  }
  for (const name of names) {
    const value = env[name];
    if (value === undefined || !value.includes(DAMAGE)) continue;
    const prefix = Buffer.from(`${name}=`);
    const bytes = raw.environ?.()?.find((e) => e.subarray(0, prefix.length).equals(prefix))?.subarray(prefix.length);
    if (bytes !== undefined && isUtf8(bytes)) continue;
    throw new UsageError(`environment variable ${name} is not valid UTF-8: ${show(bytes, value)}`, `set ${name} in UTF-8, or unset it and pass the matching option`);
  }
}

/** The option an argument belongs to: itself (`--binary=…`), the option before it, or its position. */
function optionOf(argv: readonly string[], i: number): string {
  const arg = argv[i] as string;
  if (arg.startsWith('-')) return arg.split('=')[0] as string;
  const before = argv[i - 1];
  return before?.startsWith('-') && !before.includes('=') ? `the value of ${before}` : `argument ${JSON.stringify(arg)}`;
}

/** The bytes with every non-ASCII or control byte as \xNN (the damaged string when the bytes are unknown). */
function show(bytes: Buffer | undefined, decoded: string): string {
  if (bytes === undefined) return JSON.stringify(decoded);
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `"${out}"`;
}

/**
 * argv with each `--name=value` whose value yargs would unquote split into
 * `--name` `value`: yargs takes a separate value as it is. Only a value
 * that starts with a quote is split, so it cannot be mistaken for an
 * option. Nothing after `--` is touched.
 */
export function guardQuotes(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.flatMap((arg, i) => {
    if (end >= 0 && i > end) return [arg];
    const m = /^(--[^=]+)=(.+)$/s.exec(arg);
    const value = m?.[2];
    if (!m || value === undefined) return [arg];
    const q = value[0];
    return (q === '"' || q === "'") && value[value.length - 1] === q ? [m[1] as string, value] : [arg];
  });
}
