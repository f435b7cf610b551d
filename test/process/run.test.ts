/**
 * installer/process/run.ts, the one module that starts processes: what a
 * caller gets back for each way a process can end, the same from run and
 * runSync.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { RunOptions, RunResult } from '../../installer/model/process.js';
import { processRunner, runnerOf } from '../../installer/process/run.js';

/** Run one process both ways; both must agree. */
async function both(file: string, args: string[], options?: RunOptions): Promise<RunResult> {
  const sync = processRunner.runSync(file, args, options);
  const async = await processRunner.run(file, args, options);
  const comparable = (r: RunResult): RunResult => ({ ...r, ...(r.errorMessage ? { errorMessage: r.errorMessage.replace(/^spawn(Sync)? /, 'spawn ') } : {}) });
  expect(comparable(async)).toEqual(comparable(sync));
  return sync;
}

it('captures stdout and stderr as written, final newline kept, and the exit status', async () => {
  expect(await both('sh', ['-c', 'printf "out\\n\\n"; printf err >&2; exit 3'])).toEqual({ status: 3, stdout: 'out\n\n', stderr: 'err' });
});

it('writes input to stdin; without it stdin is empty', async () => {
  expect(await both('cat', [], { input: 'line 1\nline 2' })).toEqual({ status: 0, stdout: 'line 1\nline 2', stderr: '' });
  expect(await both('cat', [])).toEqual({ status: 0, stdout: '', stderr: '' });
});

it('a binary that is not there: status null, error ENOENT', async () => {
  const r = await both('bridgectl-no-such-binary', []);
  expect(r).toEqual({ status: null, stdout: '', stderr: '', error: 'ENOENT', errorMessage: expect.stringContaining('ENOENT') });
});

it('a file that cannot be executed: error EACCES', async () => {
  expect((await both(tmpdir(), [])).error).toBe('EACCES');
});

it('a timeout ends the process with SIGTERM and error ETIMEDOUT', async () => {
  const started = Date.now();
  expect(await both('sleep', ['5'], { timeout: 200 })).toEqual({ status: null, signal: 'SIGTERM', stdout: '', stderr: '', error: 'ETIMEDOUT', errorMessage: 'timed out after 200 ms' });
  expect(Date.now() - started).toBeLessThan(4000);
});

it('a process killed by a signal: status null, that signal, no error', async () => {
  expect(await both('sh', ['-c', 'kill -KILL $$'])).toEqual({ status: null, signal: 'SIGKILL', stdout: '', stderr: '' });
});

it("output 'stderr' sends both streams to our stderr, none captured", async () => {
  expect(await both('sh', ['-c', 'echo to-our-stderr; echo too >&2'], { output: 'stderr' })).toEqual({ status: 0, stdout: '', stderr: '' });
});

it('fd3 hands one of our descriptors to the process as its fd 3', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-run-'));
  const fd = openSync(path.join(dir, 'f'), 'w');
  try {
    expect(await both('sh', ['-c', 'echo via-fd3 >&3; readlink /proc/self/fd/3'], { fd3: fd })).toEqual({ status: 0, stdout: `${path.join(dir, 'f')}\n`, stderr: '' });
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

it('runnerOf answers run and runSync from one function, with the options passed', async () => {
  const seen: unknown[] = [];
  const fake = runnerOf((file, args, options) => (seen.push([file, args, options]), { status: 0, stdout: 'x', stderr: '' }));
  expect(fake.runSync('a', ['1'], { timeout: 5 })).toEqual({ status: 0, stdout: 'x', stderr: '' });
  expect(await fake.run('b', [])).toEqual({ status: 0, stdout: 'x', stderr: '' });
  expect(seen).toEqual([['a', ['1'], { timeout: 5 }], ['b', [], {}]]);
});

describe('bundled as shipped (one CommonJS file, execa inside it)', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-run-bundle-'));
    bundle = path.join(dir, 'run.cjs');
    await build({ entryPoints: ['installer/process/run.ts'], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Run `script` with the bundle as `run` in a fresh node; its stdout, stderr and status. */
  const inChild = (script: string) => spawnSync(process.execPath, ['-e', `const run = require(${JSON.stringify(bundle)});\n${script}`], { encoding: 'utf8', input: '' });

  it("output 'stderr': the command's stdout and stderr reach our stderr, our stdout stays ours (--json)", () => {
    const r = inChild(`run.processRunner.run('sh', ['-c', 'echo from-stdout; echo from-stderr >&2; exit 3'], { output: 'stderr' }).then((x) => process.stdout.write(JSON.stringify(x)));`);
    expect({ status: r.status, stdout: JSON.parse(r.stdout), stderr: r.stderr }).toEqual({ status: 0, stdout: { status: 3, stdout: '', stderr: '' }, stderr: 'from-stdout\nfrom-stderr\n' });
  });

  it('loads execa (and node:child_process) only when a process is started', () => {
    const r = inChild(`const cp = () => process.moduleLoadList.includes('NativeModule child_process');
const before = [run.execaLoaded(), cp()];
const r = run.processRunner.runSync('true', []);
process.stdout.write(JSON.stringify({ before, after: [run.execaLoaded(), cp()], status: r.status }));`);
    expect(JSON.parse(r.stdout)).toEqual({ before: [false, false], after: [true, true], status: 0 });
  });
});
