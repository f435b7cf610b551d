/**
 * Run bridgectl. `runMain` calls main() in-process (fast, for most tests);
 * `runBin` spawns the built bundle, for what only a real process shows
 * (exit status, umask, stdout as a whole).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../installer/cli/cli.js';
import type { ServiceEnv } from '../../installer/apply/services.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `services`: the live host's systemctl and PHP-FPM, faked (tests that name a sandbox as the live host). */
export async function runMain(argv: string[], env: Record<string, string | undefined> = {}, services?: ServiceEnv): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
    ...(services ? { services } : {}),
  });
  return { code, stdout, stderr };
}

export const BIN = path.resolve('dist/bridgectl.cjs');

export function runBin(argv: string[], options: { env?: Record<string, string>; umask?: string } = {}): RunResult {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env };
  const r = options.umask
    ? spawnSync('/bin/sh', ['-c', `umask ${options.umask} && exec "$0" "$@"`, process.execPath, BIN, ...argv], { env, encoding: 'utf8' })
    : spawnSync(process.execPath, [BIN, ...argv], { env, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
