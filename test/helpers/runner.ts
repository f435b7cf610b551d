/** How a faked process ended (installer/model/process.ts RunResult), for fake runners (runnerOf). */
import type { RunResult } from '../../installer/model/process.js';

/** Ended with this exit status, no output. */
export const exited = (status: number): RunResult => ({ status, stdout: '', stderr: '' });

/** Ended without an exit status: killed (`signal`), or never ran (`error`, e.g. ENOENT). */
export const ended = (how: { signal: string } | { error: string }): RunResult => ({ status: null, stdout: '', stderr: '', ...how });
