/**
 * Helpers for the write-safety tests: snapshots of a file's bytes and
 * metadata, php -l, and listing what is left in a directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { at, CHANNELS, SITE } from './sandbox.js';

export const hasPhp = spawnSync('php', ['--version']).status === 0;

/** php -l on a file; in CI a missing php is a failure, not a pass. */
export function phpLintOk(file: string): boolean {
  if (!hasPhp) {
    if (process.env.CI) throw new Error('php is required in CI');
    return true;
  }
  return spawnSync('php', ['-n', '-l', file], { encoding: 'utf8' }).status === 0;
}

export interface Snapshot {
  bytes: Buffer | undefined;
  ino?: number;
  mtimeMs?: number;
  mode?: number;
}

export function snapshot(file: string): Snapshot {
  if (!existsSync(file)) return { bytes: undefined };
  const st = lstatSync(file);
  return { bytes: st.isFile() ? readFileSync(file) : undefined, ino: st.ino, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777 };
}

/** Names in a directory that bridgectl might have left: our temp and backup files, and anything ending in .php. */
export function leftovers(dir: string): { temps: string[]; php: string[]; backups: string[] } {
  const names = existsSync(dir) ? readdirSync(dir) : [];
  return {
    temps: names.filter((n) => n.includes('.bridgectl-') && n.endsWith('.tmp')),
    php: names.filter((n) => n.endsWith('.php')),
    backups: names.filter((n) => n.endsWith('.bridgectl-bak')),
  };
}

export const MU = `${SITE}/wp-content/mu-plugins`;
export { CHANNELS, at };

/** The standard install command line for a sandbox root. */
export function installArgs(root: string, ...extra: string[]): string[] {
  return ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, ...extra];
}
