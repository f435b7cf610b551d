/**
 * The fake kimaki (test/sudo/fake-kimaki.sh) and what it recorded, plus the
 * messages every dispatch test sends: the ones a shell, sudo or kimaki's
 * own argument parser could get wrong.
 */
import { readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { shellQuote } from '../../installer/shell.js';

export function fakeKimaki(records: string): string {
  return readFileSync(path.resolve('test/sudo/fake-kimaki.sh'), 'utf8').replace('@RECORDS@', shellQuote(records));
}

export interface Call {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid: number;
  gid: number;
  /** It got as far as writing ./tmp and its database. */
  done: boolean;
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
      };
    });
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
