/**
 * The built bin runs the core bundle through a V8 code cache kept beside it
 * (installer/code-cache.ts). The cache may only ever make bridgectl faster:
 * missing, garbage, corrupted, stale, foreign, untrusted or unwritable, it is
 * ignored, and stdout, stderr, exit codes and written files are the same
 * bytes as with no cache at all.
 *
 * Each test runs a private copy of dist/ (so caches never leak between
 * tests or into the repo's dist/).
 */
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { isAscii } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { loadWithCodeCache } from '../../installer/code-cache.js';
import { CHANNELS, isRoot, SITE } from '../helpers/sandbox.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const copies: string[] = [];
afterEach(() => {
  while (copies.length) rmSync(copies.pop() as string, { recursive: true, force: true });
});

/** A private install: <tmp>/dist/{bridgectl.cjs,bridgectl-core.cjs}, no cache. */
function install(): { dist: string; bin: string; cache: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'bridgectl-cache-'));
  copies.push(root);
  chmodSync(root, 0o755);
  const dist = path.join(root, 'dist');
  cpSync(path.resolve('dist'), dist, { recursive: true, filter: (src) => !src.endsWith('.v8cache') && !src.endsWith('.tmp') });
  // The rest of the published package ("files" in package.json): the transport template is read at run time.
  cpSync(path.resolve('templates'), path.join(root, 'templates'), { recursive: true });
  cpSync(path.resolve('package.json'), path.join(root, 'package.json'));
  return { dist, bin: path.join(dist, 'bridgectl.cjs'), cache: path.join(dist, 'bridgectl-core.cjs.v8cache') };
}

function run(bin: string, argv: string[], options: { env?: Record<string, string>; uid?: number; gid?: number } = {}): Run {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env };
  const r = spawnSync(process.execPath, [bin, ...argv], { env, encoding: 'utf8', uid: options.uid, gid: options.gid });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** What bridgectl prints for these commands with no code cache at all. */
function reference(argv: string[]): Run {
  const { bin } = install();
  return run(bin, argv, { env: { BRIDGECTL_NO_CODE_CACHE: '1' } });
}

const HELP = ['install', '--help'];
const USAGE_ERROR = ['upgrade', '--bogus'];

function header(cache: string): string {
  const bytes = readFileSync(cache);
  return bytes.subarray(0, bytes.indexOf(10)).toString('latin1');
}

/** Flip one bit at a relative position of the payload area (after the header line). */
function flipBit(cache: string, at: number): void {
  const bytes = readFileSync(cache);
  const start = bytes.indexOf(10) + 1;
  const i = start + Math.floor((bytes.length - start) * at);
  bytes[i] = (bytes[i] ?? 0) ^ 0x10;
  writeFileSync(cache, bytes);
}

function expectSameRun(actual: Run, expected: Run): void {
  expect(actual.signal).toBeNull();
  expect(actual).toEqual(expected);
}

describe('code cache beside the core bundle', () => {
  it('is written on the first run and used (not rewritten) on the next; output identical', () => {
    const expected = reference(HELP);
    const { bin, cache } = install();
    expectSameRun(run(bin, HELP), expected);
    expect(existsSync(cache)).toBe(true);
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    expect(header(cache)).toContain(process.version);
    const before = statSync(cache);
    expectSameRun(run(bin, HELP), expected);
    const after = statSync(cache);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('is rewritten once for each new command, as a superset, then left alone', () => {
    const { bin, cache } = install();
    const upgradeHelp = ['upgrade', '--help'];
    const expected = [reference(HELP), reference(upgradeHelp)];
    expectSameRun(run(bin, HELP), expected[0] as Run);
    expect(header(cache)).toMatch(/ install \d+$/);
    const first = statSync(cache);
    expectSameRun(run(bin, upgradeHelp), expected[1] as Run);
    expect(header(cache)).toMatch(/ install,upgrade \d+$/);
    const second = statSync(cache);
    expect(second.mtimeMs).not.toBe(first.mtimeMs);
    expectSameRun(run(bin, upgradeHelp), expected[1] as Run);
    expectSameRun(run(bin, HELP), expected[0] as Run);
    expect(statSync(cache).mtimeMs).toBe(second.mtimeMs);
  });

  it('stops adding commands after a few (typos cannot keep it churning)', () => {
    const { bin, cache } = install();
    for (const word of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']) run(bin, [word]);
    expect(header(cache).split(' ').at(-2)?.split(',')).toHaveLength(8);
    const settled = statSync(cache).mtimeMs;
    expectSameRun(run(bin, ['k']), reference(['k']));
    expect(statSync(cache).mtimeMs).toBe(settled);
  });

  it('gives the same bytes for usage errors and their exit code', () => {
    const expected = reference(USAGE_ERROR);
    expect(expected.code).toBe(1);
    const { bin } = install();
    expectSameRun(run(bin, USAGE_ERROR), expected);
    expectSameRun(run(bin, USAGE_ERROR), expected);
  });

  it('writes no cache, and reads none, with BRIDGECTL_NO_CODE_CACHE=1', () => {
    const { bin, cache, dist } = install();
    writeFileSync(cache, 'not a cache');
    expectSameRun(run(bin, HELP, { env: { BRIDGECTL_NO_CODE_CACHE: '1' } }), reference(HELP));
    expect(readFileSync(cache, 'utf8')).toBe('not a cache');
    expect(readdirSync(dist).sort()).toEqual(['bridgectl-core.cjs', 'bridgectl-core.cjs.v8cache', 'bridgectl-lazy-diff.cjs', 'bridgectl-lazy-execa.cjs', 'bridgectl-lazy-plist.cjs', 'bridgectl.cjs']);
  });

  // Every way a cache file can be wrong: each is ignored, and replaced by a good one.
  const damages: [string, (cache: string) => void][] = [
    ['garbage', (c) => writeFileSync(c, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)))],
    ['empty', (c) => writeFileSync(c, '')],
    ['truncated', (c) => writeFileSync(c, readFileSync(c).subarray(0, Math.floor(statSync(c).size / 2)))],
    [
      'corrupted throughout under a valid header (would crash V8 unchecked)',
      (c) => {
        const bytes = readFileSync(c);
        for (let i = bytes.indexOf(10) + 200; i < bytes.length; i += 997) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
        writeFileSync(c, bytes);
      },
    ],
    ['one bit flipped in the payload V8 would read', (c) => flipBit(c, 0.3)],
    ['one bit flipped in the check copy', (c) => flipBit(c, 0.8)],
    ['from another Node version', (c) => writeFileSync(c, Buffer.from(readFileSync(c).toString('latin1').replace(process.version, 'v99.0.0'), 'latin1'))],
    [
      'from another build of the bundle',
      (c) => {
        const text = readFileSync(c).toString('latin1');
        const nl = text.indexOf('\n');
        const fields = text.slice(0, nl).split(' ');
        fields[4] = '0000000000000000'; // the build id
        writeFileSync(c, Buffer.from(fields.join(' ') + text.slice(nl), 'latin1'));
      },
    ],
    ['group- and world-writable', (c) => chmodSync(c, 0o666)],
  ];

  it.each(damages)('ignores a cache that is %s', (_name, damage) => {
    const expected = reference(HELP);
    const { bin, cache } = install();
    expectSameRun(run(bin, HELP), expected); // writes a good cache
    damage(cache);
    const damaged = readFileSync(cache);
    expectSameRun(run(bin, HELP), expected);
    // …and replaced it with a good one, which the next run uses as is.
    expect(readFileSync(cache).equals(damaged)).toBe(false);
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    const good = statSync(cache);
    expectSameRun(run(bin, HELP), expected);
    expect(statSync(cache).mtimeMs).toBe(good.mtimeMs);
  });

  it('ignores a cache that is a symlink (and does not write through it)', () => {
    const { bin, cache, dist } = install();
    expectSameRun(run(bin, HELP), reference(HELP));
    const elsewhere = path.join(path.dirname(dist), 'elsewhere');
    writeFileSync(elsewhere, readFileSync(cache));
    rmSync(cache);
    symlinkSync(elsewhere, cache);
    const before = readFileSync(elsewhere);
    expectSameRun(run(bin, HELP), reference(HELP));
    expect(readFileSync(elsewhere).equals(before)).toBe(true);
  });

  (isRoot ? it : it.skip)('ignores a cache owned by another user', () => {
    const expected = reference(HELP);
    const { bin, cache } = install();
    expectSameRun(run(bin, HELP), expected);
    chownSync(cache, 4242, 4242);
    expectSameRun(run(bin, HELP), expected);
    expect(statSync(cache).uid).toBe(0); // replaced by ours
  });

  it('runs from a read-only install directory: no cache, no error, no stray files', () => {
    const { bin, dist } = install();
    const argvs = [HELP, USAGE_ERROR];
    const expected = argvs.map(reference);
    const asOther = isRoot ? { uid: 65534, gid: 65534 } : {};
    if (!isRoot) chmodSync(dist, 0o555);
    try {
      argvs.forEach((argv, i) => expectSameRun(run(bin, argv, asOther), expected[i] as Run));
      expect(readdirSync(dist).sort()).toEqual(['bridgectl-core.cjs', 'bridgectl-lazy-diff.cjs', 'bridgectl-lazy-execa.cjs', 'bridgectl-lazy-plist.cjs', 'bridgectl.cjs']);
    } finally {
      chmodSync(dist, 0o755);
    }
  });

  it('removes the cache temp files a killed run left when it writes a new cache, and nothing else', () => {
    const { bin, cache, dist } = install();
    const temp = (pid: number) => `.bridgectl-core.cjs.v8cache.${pid}-lx1b2c3.tmp`;
    const dead = temp(2147483646); // no such pid
    const live = temp(process.pid); // a run still writing (this test process stands in for it)
    const others = ['.bridgectl-core.cjs.v8cache.tmp', '.other.v8cache.1-a.tmp', 'bridgectl-core.cjs.v8cache.1-a.tmp', `${temp(2147483646)}.keep`];
    for (const name of [dead, live, ...others]) writeFileSync(path.join(dist, name), 'partial');
    expectSameRun(run(bin, HELP), reference(HELP));
    expect(existsSync(cache)).toBe(true);
    expect(readdirSync(dist).sort()).toEqual(['bridgectl-core.cjs', 'bridgectl-core.cjs.v8cache', 'bridgectl-lazy-diff.cjs', 'bridgectl-lazy-execa.cjs', 'bridgectl-lazy-plist.cjs', 'bridgectl.cjs', live, ...others].sort());
  });

  it('writes and reports the same files with a cold, a warm and a broken cache', () => {
    const installArgs = (root: string) => ['install', ...bridges.flatMap((b) => ['--bridge', b.id]), '--site', SITE, '--service-user', 'opencode', '--root', root];
    const { bin, cache } = install();
    const outcome = (env: Record<string, string> = {}) => {
      const root = bridgeSandbox();
      const installed = run(bin, installArgs(root), { env });
      const upgraded = run(bin, ['upgrade', '--site', SITE, '--root', root, '--json'], { env });
      const dry = run(bin, ['uninstall', '--bridge', bridges[0]?.id ?? 'kimaki', '--site', SITE, '--root', root, '--dry-run'], { env });
      const file = readFileSync(path.join(root, CHANNELS), 'utf8');
      const mode = statSync(path.join(root, CHANNELS)).mode;
      // The sandbox path differs per run; compare with it masked.
      return JSON.stringify({ installed, upgraded, dry, file, mode }).split(root).join('<root>');
    };
    const cold = outcome({ BRIDGECTL_NO_CODE_CACHE: '1' });
    expect(outcome()).toBe(cold); // writes the cache
    expect(existsSync(cache)).toBe(true);
    expect(outcome()).toBe(cold); // uses it
    writeFileSync(cache, 'garbage');
    expect(outcome()).toBe(cold);
  });
});

describe('reading the bundle', () => {
  it('is ASCII once built (so it is read as latin1, a plain copy)', () => {
    expect(isAscii(readFileSync(path.resolve('dist/bridgectl-core.cjs')))).toBe(true);
  });

  it('decodes a bundle with non-ASCII text as UTF-8, with or without a cache', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-load-'));
    copies.push(dir);
    for (const text of ['plain', 'caf\u00e9 \u2014 \u{1F600}']) {
      const bundle = path.join(dir, `b${text.length}.cjs`);
      writeFileSync(bundle, `// ${text}\nmodule.exports = { literal: ${JSON.stringify(text)}, raw: String.raw\`${text}\` };\n`);
      for (let round = 0; round < 2; round++) {
        const loaded = loadWithCodeCache(bundle, { buildId: 'test', enabled: true, tag: 'test' });
        expect(loaded.exports).toEqual({ literal: text, raw: text });
        loaded.saveCache();
      }
    }
  });
});
