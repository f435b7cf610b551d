/**
 * Running a process synchronously, behind an injectable Runner so tests
 * can answer for the machine. node:child_process is loaded when a process
 * is first started, not at startup: most runs start none.
 */

export interface RunResult {
  /** Exit status; null when the process could not start or died from a signal. */
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the executable could not be started (ENOENT…). */
  error?: string;
}

export type Runner = (file: string, args: readonly string[], options?: { input?: string }) => RunResult;

export const spawnRunner: Runner = (file, args, options = {}) => {
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(file, [...args], { encoding: 'utf8', input: options.input ?? '', timeout: 30_000 });
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    ...(r.error ? { error: (r.error as NodeJS.ErrnoException).code ?? r.error.message } : {}),
  };
};
