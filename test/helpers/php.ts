/**
 * Real PHP for tests. In CI a missing `php` is a failure, never a skip:
 * `.ci/run` installs php-cli, and a PHP test that silently skips proves nothing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const hasPhp = spawnSync('php', ['--version']).status === 0;

/** `describe`, or a loud skip outside CI when php is missing. */
export function describePhp(name: string, body: () => void): void {
  if (!hasPhp && !process.env.CI) {
    console.warn(`SKIPPED (no php on PATH; CI installs it): ${name}`);
    describe.skip(name, body);
    return;
  }
  describe(name, () => {
    it('has php', () => expect(hasPhp).toBe(true));
    body();
  });
}

export function phpLint(file: string): { ok: boolean; output: string } {
  const r = spawnSync('php', ['-l', file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

export interface PhpChannel {
  command: string;
  args: string[];
  detach: boolean;
  timeout: number;
  env?: Record<string, string>;
}

/** Load a channels file through its filter in real PHP and return the channels. */
export function loadChannels(file: string): Record<string, PhpChannel> {
  const r = spawnSync('php', [path.resolve('test/php/load-channels.php'), file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`php failed (${r.status}): ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, PhpChannel>;
}
