/**
 * Starting a process, as the rest of bridgectl sees it. The one
 * implementation is installer/process/run.ts; tests pass a fake Runner
 * where a command would start something.
 */

export interface RunOptions {
  /** Written to stdin; without it stdin is /dev/null. */
  input?: string;
  /** Milliseconds before the process is sent SIGTERM (its result then has error 'ETIMEDOUT'); none by default. */
  timeout?: number;
  /** 'capture' (the default): stdout and stderr come back in the result. 'stderr': both go to our stderr, never our stdout (--json keeps stdout to one document). */
  output?: 'capture' | 'stderr';
  /** An open descriptor of ours the process gets as its fd 3 (flock(1) locks it). */
  fd3?: number;
}

export interface RunResult {
  /** Exit status; null when the process could not start, died from a signal, or timed out. */
  status: number | null;
  /** The signal that ended it (SIGTERM after a timeout). */
  signal?: string;
  /** Empty unless captured. */
  stdout: string;
  stderr: string;
  /** Why it could not run or finish: the errno code (ENOENT, EACCES, ETIMEDOUT…), else the message. */
  error?: string;
  /** The system's message for that error, e.g. `spawnSync php EACCES`. */
  errorMessage?: string;
}

/**
 * Runs processes: `run` for callers that are already async (service
 * reloads, validation), `runSync` for the synchronous ones (planning,
 * doctor's probes, visudo, the lock, NSS lookups). Both answer the same RunResult for
 * the same process.
 */
export interface Runner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  runSync(file: string, args: readonly string[], options?: RunOptions): RunResult;
}
