/**
 * The one module that starts processes, on execa. execa is loaded on the
 * first process a run starts, not at startup: most runs (a no-op upgrade
 * under --root, --help) start none, and execa with its dependencies is
 * ~250 KB of code a cold start would otherwise parse. In the build the
 * require below reaches dist/lazy-execa.cjs, beside the CLI (scripts/build.mjs
 * LAZY); from source (tests) Node loads the ESM package through createRequire
 * (require of ESM: Node >= 20.19, package.json engines).
 *
 * Every call is `reject: false`: a failing process is a result, never a
 * throw; callers decide what an exit status or a missing binary means.
 */
import type * as Execa from 'execa';
import type { RunOptions, RunResult, Runner } from '../model/process.js';

let execaModule: typeof Execa | undefined;

/** execa, loaded now if it is not yet (synchronously, so runSync can use it too). */
function execa(): typeof Execa {
  // In the CommonJS bundle `require` exists and esbuild resolves this call;
  // in ESM (tests) it does not, and createRequire loads execa.
  const loaded =
    execaModule ??
    (typeof require === 'function'
      ? (require('execa') as typeof Execa)
      : ((process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(import.meta.url)('execa') as typeof Execa));
  execaModule = loaded;
  return loaded;
}

/** Whether execa has been loaded in this process (what a no-op run must never do). */
export function execaLoaded(): boolean {
  return execaModule !== undefined;
}

function execaOptions(options: RunOptions): Execa.Options & Execa.SyncOptions {
  const stdin = options.input !== undefined ? 'pipe' : 'ignore';
  const out = options.output === 'stderr' ? 2 : 'pipe';
  return {
    reject: false,
    // The output as the process wrote it (execa strips the last newline by default).
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    stdio: options.fd3 !== undefined ? [stdin, out, out === 2 ? 2 : 'pipe', options.fd3] : [stdin, out, out === 2 ? 2 : 'pipe'],
  } as Execa.Options & Execa.SyncOptions;
}

/** execa's result (or its error, with reject: false) as a RunResult. */
function toResult(timeout: number | undefined, r: { exitCode?: number; signal?: string; stdout?: unknown; stderr?: unknown; code?: string; originalMessage?: string; timedOut?: boolean; failed?: boolean; shortMessage?: string }): RunResult {
  const text = (s: unknown): string => (typeof s === 'string' ? s : '');
  const code = r.timedOut ? 'ETIMEDOUT' : r.code;
  // An error is what kept the process from running or finishing: not an exit status, not a signal of its own.
  const failedToRun = code !== undefined || (r.failed === true && r.exitCode === undefined && r.signal === undefined);
  const message = r.timedOut ? `timed out after ${timeout} ms` : (r.originalMessage ?? r.shortMessage);
  return {
    status: r.timedOut ? null : (r.exitCode ?? null),
    ...(r.signal !== undefined ? { signal: r.signal } : {}),
    stdout: text(r.stdout),
    stderr: text(r.stderr),
    ...(failedToRun ? { error: code ?? message ?? 'unknown error', ...(message !== undefined ? { errorMessage: message } : {}) } : {}),
  };
}

/** The real runner. */
export const processRunner: Runner = {
  async run(file, args, options = {}) {
    return toResult(options.timeout, await execa().execa(file, [...args], execaOptions(options)));
  },
  runSync(file, args, options = {}) {
    return toResult(options.timeout, execa().execaSync(file, [...args], execaOptions(options)));
  },
};

/** A Runner whose processes all answer `answer` (tests, and callers that fake a process). */
export function runnerOf(answer: (file: string, args: readonly string[], options: RunOptions) => RunResult): Runner {
  return {
    run: async (file, args, options = {}) => answer(file, args, options),
    runSync: (file, args, options = {}) => answer(file, args, options),
  };
}
