#!/usr/bin/env node
// npm run bench: the built CLI's run time as a ratio to `node -e 0` (the
// floor), against the bounds of #18. Every iteration runs every case once,
// in a rotating order, so machine noise hits all alike; each ratio is the
// median over iterations of (case time / floor time in that iteration).
// Exits 1 when a bound is missed, 2 when the bench itself cannot run.
//
//   node scripts/bench.mjs [--iterations N] [--warmup N] [--no-build] [--bin FILE] [--json FILE]
//
// Under another Node (the compile cache needs Node >= 22.1), e.g. the
// current LTS from the npm registry; every timed process, the floor
// included, runs on the Node that runs this script:
//
//   npx -y -p node@24 node scripts/bench.mjs --no-build
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, median, pairedDiff, pairedRatio, roundRobin, summarize, timeProcess } from './bench-lib.mjs';
import { checkNoWrites, stracePresent } from './check-noop-writes.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SITE = '/var/www/html';
const CHANNELS = `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`;
const BRIDGES = ['kimaki', 'cc-connect', 'telegram'];
const BINARIES = ['kimaki', 'cc-connect', 'opencode-telegram', 'opencode'];

/** The bounds of #18: ratios to the floor, the 2,000/1,000-block scaling of time above it, and peak RSS. */
const BOUNDS = { upgradeNoop: 1.5, check: 1.5, install: 2.5, upgrade1000: 1.9, scaling: 2.2, rssMb: 100 };

const options = parseArgs(process.argv.slice(2));
const BIN = path.resolve(options.bin ?? path.join(repo, 'dist/bridgectl.cjs'));
const node = process.execPath;
/**
 * Timed processes get PATH, HOME, LANG (bench-lib.mjs) plus this shell's
 * variables that change how every Node process starts, the floor's
 * included (NODE_EXTRA_CA_CERTS alone adds ~40 ms to Node 20's start here):
 * how `node` starts on this machine. Nothing bridgectl reads comes along.
 */
const startupVars = Object.keys(process.env).filter((k) => /^(NODE_|UV_|OPENSSL_CONF$|SSL_CERT_)/.test(k)).sort();
const env = benchEnv({ extra: Object.fromEntries(startupVars.map((k) => [k, process.env[k]])) });
const work = mkdtempSync(path.join(tmpdir(), 'bridgectl-bench-'));

try {
  process.exitCode = await run();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function run() {
  if (options.build) {
    const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repo, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build`);
  const cli = (...args) => [node, BIN, ...args];
  const say = (text) => process.stderr.write(`bench: ${text}\n`);
  const installArgs = (root) => ['install', ...BRIDGES.flatMap((id) => ['--bridge', id]), '--site', SITE, '--service-user', 'opencode', '--root', root];
  const siteArgs = (command, root) => [command, '--site', SITE, '--root', root];

  // Fixtures: one installed site, and two grown to 1,000 and 2,000 channel blocks.
  const generator = await buildGenerator();
  const installed = installedSite('site', cli, installArgs);
  const big = {};
  for (const n of [1000, 2000]) {
    big[n] = installedSite(`site-${n}`, cli, installArgs);
    const made = timeProcess([node, generator, path.join(big[n], CHANNELS), String(n)], { env, label: 'generate blocks' }).stdout.trim();
    if (Number(made) !== n) throw new Error(`generator made ${made} blocks, wanted ${n}`);
  }
  for (const root of [installed, big[1000], big[2000]]) assertNoop(cli, root, siteArgs);

  // A fresh site for every install run, made before timing starts.
  const fresh = Array.from({ length: options.warmup + options.iterations }, (_, i) => serverRoot(`fresh-${i}`));
  const cases = [
    { key: 'floor', label: 'node -e 0 (floor)', command: () => [node, '-e', '0'] },
    { key: 'upgradeNoop', label: 'upgrade, no-op, 3 bridges', command: () => cli(...siteArgs('upgrade', installed)) },
    { key: 'check', label: 'check, in sync', command: () => cli(...siteArgs('check', installed)) },
    { key: 'install', label: 'install 3 bridges, validators on', command: (i) => cli(...installArgs(fresh[i + options.warmup])) },
    { key: 'upgrade1000', label: 'upgrade, 1,000 blocks', command: () => cli(...siteArgs('upgrade', big[1000])) },
    { key: 'upgrade2000', label: 'upgrade, 2,000 blocks', command: () => cli(...siteArgs('upgrade', big[2000])) },
  ];
  say(`${options.iterations} iterations (+${options.warmup} warm-up) of ${cases.length} cases, round-robin…`);
  const times = roundRobin(cases, {
    iterations: options.iterations,
    warmup: options.warmup,
    env,
    onIteration: (i) => (i + 1) % 10 === 0 && say(`${i + 1}/${options.iterations}`),
  });
  const rss = Object.fromEntries(cases.slice(1).map((c) => [c.key, peakRssMb(c.key === 'install' ? cli(...installArgs(serverRoot(`rss-${c.key}`))) : c.command(0))]));

  // Report.
  const floor = times.floor;
  const above = (key) => median(pairedDiff(times[key], floor));
  const scaling = above('upgrade2000') / above('upgrade1000');
  const peak = Math.max(...Object.values(rss));
  const rows = cases.map((c) => {
    const ratio = c.key === 'floor' ? 1 : pairedRatio(times[c.key], floor);
    const bound = BOUNDS[c.key];
    return { label: c.label, ...summarize(times[c.key]), ratio, bound, pass: bound === undefined ? undefined : ratio <= bound, rss: rss[c.key] };
  });
  const checks = [
    ...rows.filter((r) => r.bound !== undefined).map((r) => ({ name: `${r.label}: ${r.ratio.toFixed(2)}× ≤ ${r.bound}×`, pass: r.pass })),
    { name: `2,000 / 1,000 blocks, time above the floor: ${above('upgrade2000').toFixed(1)} / ${above('upgrade1000').toFixed(1)} ms = ${scaling.toFixed(2)}× ≤ ${BOUNDS.scaling}×`, pass: scaling <= BOUNDS.scaling },
    { name: `peak RSS, largest of the cases: ${peak.toFixed(1)} MB ≤ ${BOUNDS.rssMb} MB`, pass: peak <= BOUNDS.rssMb },
    noopWrites(cli, [installed, big[1000]], siteArgs),
  ];
  const table = [
    ['case', 'median ms', 'min–max ms', 'ratio', 'bound', 'peak RSS'],
    ...rows.map((r) => [
      r.label,
      r.median.toFixed(1),
      `${r.min.toFixed(1)}–${r.max.toFixed(1)}`,
      `${r.ratio.toFixed(2)}×`,
      r.bound === undefined ? '' : `≤ ${r.bound}× ${r.pass ? 'pass' : 'FAIL'}`,
      r.rss === undefined ? '' : `${r.rss.toFixed(1)} MB`,
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [
    `bridgectl bench: node ${process.version}, ${cpus().length} CPUs, ${options.iterations} iterations (+${options.warmup} warm-up), round-robin`,
    `bin: ${path.relative(process.cwd(), BIN) || BIN}; Node start-up variables passed on: ${startupVars.join(', ') || 'none'}`,
    '',
    line(table[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.slice(1).map(line),
    '',
    'bounds:',
    ...checks.map((c) => `${c.pass ? 'pass' : c.pass === undefined ? 'skip' : 'FAIL'}  ${c.name}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (options.json) writeFileSync(options.json, JSON.stringify({ node: process.version, iterations: options.iterations, times, rows, scaling, rss, checks }, null, 2));
  return checks.every((c) => c.pass !== false) ? 0 : 1;
}

function parseArgs(argv) {
  const o = { iterations: 30, warmup: 3, build: true, bin: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? usage(`${a} needs a value`);
    const count = (min) => {
      const n = Number(value());
      return Number.isInteger(n) && n >= min ? n : usage(`${a} wants a whole number ≥ ${min}`);
    };
    if (a === '--iterations') o.iterations = count(1);
    else if (a === '--warmup') o.warmup = count(0);
    else if (a === '--no-build') o.build = false;
    else if (a === '--bin') [o.bin, o.build] = [value(), false];
    else if (a === '--json') o.json = value();
    else usage(`unknown argument ${a}`);
  }
  return o;
}

function usage(message) {
  process.stderr.write(`bench: ${message}\nusage: node scripts/bench.mjs [--iterations N] [--warmup N] [--no-build] [--bin FILE] [--json FILE]\n`);
  process.exit(2);
}

/** A sandbox server root: passwd/group with a service user (whoever runs the bench), its home, a site, the bridge CLIs. */
function serverRoot(name) {
  const root = path.join(work, name);
  const uid = process.getuid?.() ?? 1000;
  const gid = process.getgid?.() ?? 1000;
  for (const dir of ['etc', 'root', 'home/opencode', 'var/www/html/wp-content', 'var/www/html/wp-includes', 'usr/local/bin']) mkdirSync(path.join(root, dir), { recursive: true });
  // --site must be a WordPress root.
  writeFileSync(path.join(root, 'var/www/html/wp-config.php'), "<?php\n// the bench site's config\n");
  chmodSync(root, 0o755);
  chmodSync(path.join(root, 'root'), 0o700);
  chmodSync(path.join(root, 'home/opencode'), 0o750);
  writeFileSync(
    path.join(root, 'etc/passwd'),
    ['root:x:0:0:root:/root:/bin/bash', 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin', `opencode:x:${uid}:${gid}:opencode:/home/opencode:/bin/bash`, ''].join('\n'),
  );
  writeFileSync(path.join(root, 'etc/group'), ['root:x:0:', 'www-data:x:33:', `opencode:x:${gid}:`, ''].join('\n'));
  for (const b of BINARIES) writeFileSync(path.join(root, 'usr/local/bin', b), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return root;
}

function installedSite(name, cli, installArgs) {
  const root = serverRoot(name);
  timeProcess(cli(...installArgs(root)), { env, label: `install (${name})` });
  return root;
}

/** Upgrade on the fixture must report every file unchanged (a timed no-op that writes would measure something else). */
function assertNoop(cli, root, siteArgs) {
  const json = JSON.parse(timeProcess(cli(...siteArgs('upgrade', root), '--json'), { env, label: 'upgrade --json' }).stdout);
  const changed = json.files.filter((f) => f.status !== 'unchanged');
  if (changed.length) throw new Error(`upgrade on the fixture is not a no-op: ${JSON.stringify(changed.map((f) => [f.path, f.status]))}`);
}

/** Bundle scripts/bench-channels.ts (the project's own renderer and marker engine) into a runnable file. */
async function buildGenerator() {
  // Inside the repo, so its imports (handlebars) and templates/ resolve from there.
  const out = path.join(repo, 'node_modules/.cache/bridgectl-bench/bench-channels.mjs');
  const { build } = await import('esbuild');
  await build({ entryPoints: [path.join(repo, 'scripts/bench-channels.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
  return out;
}

/** Peak RSS in MB of one untimed run: the process's own maxRSS, written at exit by a --require preload. */
function peakRssMb(argv) {
  const preload = path.join(work, 'maxrss.cjs');
  const out = path.join(work, 'maxrss');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.BRIDGECTL_BENCH_RSS, String(process.resourceUsage().maxRSS)));\n");
  const r = spawnSync(argv[0], ['--require', preload, ...argv.slice(1)], { env: { ...env, BRIDGECTL_BENCH_RSS: out }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`peak RSS run failed: ${argv.join(' ')}\n${r.stderr}`);
  return Number(readFileSync(out, 'utf8')) / 1024;
}

/** strace the no-op upgrades: not one write-ish system call on the site tree. */
function noopWrites(cli, roots, siteArgs) {
  const name = 'no-op upgrade makes no write system call on the site tree';
  if (!stracePresent()) return { name: `${name}: strace not installed`, pass: undefined };
  const found = [];
  for (const root of roots) {
    let r;
    try {
      r = checkNoWrites(root, cli(...siteArgs('upgrade', root)), { env });
    } catch (err) {
      return { name: `${name}: not checked, ${err.message}`, pass: undefined }; // e.g. ptrace not permitted here
    }
    if (r.status !== 0) throw new Error(`upgrade under strace exited ${r.status}:\n${r.output}`);
    found.push(...r.violations);
  }
  return { name: found.length ? `${name}:\n      ${found.join('\n      ')}` : name, pass: found.length === 0 };
}
