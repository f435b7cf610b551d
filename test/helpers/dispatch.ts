/**
 * The fake CLIs (test/sudo/fake-kimaki.sh, fake-cc-connect.sh) and what
 * they recorded, plus the messages every dispatch test sends: the ones a
 * shell, sudo or the CLI's own argument parser could get wrong.
 */
import { readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { shellQuote } from '../../installer/lib/shell.js';

export function fakeKimaki(records: string): string {
  return readFileSync(path.resolve('test/sudo/fake-kimaki.sh'), 'utf8').replace('@RECORDS@', shellQuote(records));
}

export function fakeCcConnect(records: string): string {
  return readFileSync(path.resolve('test/sudo/fake-cc-connect.sh'), 'utf8').replace('@RECORDS@', shellQuote(records));
}

export interface Call {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid: number;
  gid: number;
  /** It got as far as it does on success (kimaki: ./tmp and its database; cc-connect: found the socket). */
  done: boolean;
  /** Its exit status, once it has exited. */
  exit?: number;
}

const nulList = (file: string): string[] => readFileSync(file, 'utf8').split('\0').slice(0, -1);

export function readCalls(records: string): Call[] {
  if (!existsSync(records)) return [];
  return readdirSync(records)
    .filter((d) => d.startsWith('call.'))
    .map((d) => {
      const dir = path.join(records, d);
      const env = Object.fromEntries(nulList(path.join(dir, 'env')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      return {
        argv: nulList(path.join(dir, 'argv')),
        env,
        cwd: readFileSync(path.join(dir, 'cwd'), 'utf8').trim(),
        uid: Number(readFileSync(path.join(dir, 'uid'), 'utf8')),
        gid: Number(readFileSync(path.join(dir, 'gid'), 'utf8')),
        done: existsSync(path.join(dir, 'done')),
        ...(existsSync(path.join(dir, 'exit')) ? { exit: Number(readFileSync(path.join(dir, 'exit'), 'utf8')) } : {}),
      };
    });
}

/**
 * Wait (bounded) until `count` calls have exited, for a CLI the transport
 * started detached; returns them and clears the records. Throws naming what
 * was seen when they do not come.
 */
export async function waitForCalls(records: string, count = 1, timeoutMs = 15_000): Promise<Call[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const dirs = existsSync(records) ? readdirSync(records).filter((d) => d.startsWith('call.')) : [];
    const exited = dirs.filter((d) => existsSync(path.join(records, d, 'exit')));
    if (exited.length >= count || Date.now() > until) {
      if (exited.length !== count || dirs.length !== count) {
        throw new Error(`waited for ${count} finished call(s) of the fake CLI; found ${dirs.length} started, ${exited.length} finished`);
      }
      const calls = readCalls(records);
      clearCalls(records);
      return calls;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function clearCalls(records: string): void {
  for (const d of existsSync(records) ? readdirSync(records) : []) rmSync(path.join(records, d), { recursive: true, force: true });
}

/** Messages that must arrive byte for byte as one argument. */
export const HOSTILE_MESSAGES: [string, string][] = [
  ['plain', 'hello from WordPress'],
  ['command substitution', 'run $(touch /tmp/bridgectl-pwned) now'],
  ['backticks', 'run `touch /tmp/bridgectl-pwned` now'],
  ['semicolon and pipe', 'a; touch /tmp/bridgectl-pwned | cat && echo x || y & z'],
  ['quotes', `it's "quoted" and 'single' and \\"escaped\\"`],
  ['leading dash', '-x looks like an option'],
  ['leading double dash', '--help'],
  ['a list item', '- step one done\n- step two next'],
  ['newlines, trailing too', 'line one\nline two\n\n'],
  ['CR and tab', 'a\r\nb\tc'],
  ['non-ASCII', 'héllo — 日本語 🎉 Ωmega'],
  ['printf and glob characters', '%s %n %% * ? [a-z] ~ $HOME ${PATH} \\n \\0'],
  ['only spaces', '   '],
  ['an x at the end', 'ends in x'],
];
