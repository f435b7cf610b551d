// Timing whole processes, for scripts/bench.mjs (and for ad-hoc comparisons
// while profiling). No dependencies beyond node: builtins.
import { spawnSync } from 'node:child_process';

/**
 * The environment the timed processes get: PATH, HOME, LANG (and TMPDIR),
 * plus `extra`. Nothing else comes from the caller's shell: what bridgectl
 * reads (SITE_PATH, SERVICE_USER, BRIDGECTL_*…) would change the work, and
 * NODE_OPTIONS / NODE_EXTRA_CA_CERTS change every Node start
 * (NODE_EXTRA_CA_CERTS alone costs ~40 ms here: Node 20 then builds the
 * whole root certificate store at startup), so bench.mjs adds those only
 * to the environment it times them in, on purpose.
 */
export function benchEnv({ extra = {} } = {}) {
  const env = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  if (process.env.HOME) env.HOME = process.env.HOME;
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return { ...env, ...extra };
}

/** Run one process to completion; returns wall time in ms and its result. Throws on a non-zero exit. */
export function timeProcess(command, { env, cwd, label } = {}) {
  const [file, ...args] = command;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${label ?? command.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr.toString()}${r.stdout.toString()}`);
  }
  return { ms, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/**
 * Round-robin timing: every iteration runs every case once, in an order
 * rotated by one each iteration (so no case always follows the same
 * neighbour), and noise from the machine hits all cases alike. A case is
 * { key, command(iteration) → argv, env?, check?(result) }.
 * Returns { key: number[] } of wall times in ms, index = iteration.
 */
export function roundRobin(cases, { iterations, warmup = 0, env, onIteration } = {}) {
  const times = Object.fromEntries(cases.map((c) => [c.key, []]));
  for (let i = -warmup; i < iterations; i++) {
    const offset = ((i % cases.length) + cases.length) % cases.length;
    for (let j = 0; j < cases.length; j++) {
      const c = cases[(j + offset) % cases.length];
      const result = timeProcess(c.command(i), { env: c.env ?? env, label: c.key });
      if (c.check) c.check(result, i);
      if (i >= 0) times[c.key].push(result.ms);
    }
    if (i >= 0 && onIteration) onIteration(i);
  }
  return times;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median of per-iteration ratios a[i] / b[i]. */
export function pairedRatio(a, b) {
  return median(a.map((v, i) => v / b[i]));
}

/** Per-iteration differences a[i] - b[i]. */
export function pairedDiff(a, b) {
  return a.map((v, i) => v - b[i]);
}

export function summarize(samples) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}
