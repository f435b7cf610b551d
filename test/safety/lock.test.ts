/**
 * The host lock: lost updates, timeouts that name the holder, and other tools
 * honouring it with plain flock(1).
 *
 * BRIDGECTL_SLOW=1 (npm run test:slow) repeats the concurrency run more.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acquireLock, lockPath } from '../../installer/apply/lock.js';
import { listBlocks } from '../../installer/render/markers.js';
import { renderScaffold } from '../../installer/render/channel.js';
import { runBin } from '../helpers/cli.js';
import { isRoot, sandbox, serverSandbox } from '../helpers/sandbox.js';
import { at, CHANNELS, installArgs, leftovers, MU, phpLintOk } from '../helpers/safety.js';
import { snapshot as treeSnapshot } from '../helpers/tree.js';
import { buildWriter, runWriter } from '../helpers/writer.js';

const SLOW = process.env.BRIDGECTL_SLOW === '1';
const SITE = '/var/www/html';

function siteWithScaffold(): string {
  const root = sandbox();
  mkdirSync(at(root, MU), { recursive: true });
  writeFileSync(at(root, CHANNELS), renderScaffold());
  return root;
}

describe('no lost updates', () => {
  beforeAll(() => buildWriter());

  const processes = 24;
  const rounds = SLOW ? 5 : 1;
  it(`${processes} processes adding distinct blocks to one file at once, ${rounds} round(s): every block is there`, async () => {
    for (let round = 0; round < rounds; round++) {
      const root = siteWithScaffold();
      const ids = Array.from({ length: processes }, (_, i) => `blk-${round}-${i}`);
      const results = await Promise.all(ids.map((id) => runWriter(['add', root, SITE, id])));
      for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
      const text = readFileSync(at(root, CHANNELS), 'utf8');
      expect(listBlocks(text).map((b) => b.id).sort()).toEqual([...ids].sort());
      expect(phpLintOk(at(root, CHANNELS))).toBe(true);
      expect(leftovers(at(root, MU))).toEqual({ temps: [], php: ['wp-coding-agents-channels.php'], backups: [] });
      expect(existsSync(path.join(lockPath(root), 'holder'))).toBe(false);
    }
  });
});

describe('lock timeout', () => {
  it('a held lock past --lock-timeout is an error naming the lock and the holder, and nothing is written', () => {
    const root = serverSandbox();
    const lock = acquireLock(root, { timeout: 1, command: 'bridgectl upgrade (test holder)' });
    try {
      const t0 = Date.now();
      const r = runBin(installArgs(root, '--lock-timeout', '1'));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`timed out after 1 s waiting for the lock ${lockPath(root)}, held by pid ${process.pid} ('bridgectl upgrade (test holder)', since `);
      expect(r.stderr).toContain('--lock-timeout');
      expect(existsSync(at(root, CHANNELS))).toBe(false);
    } finally {
      lock.release();
    }
    expect(runBin(installArgs(root, '--lock-timeout', '0')).code).toBe(0);
  });

  it('--lock-timeout 0 fails at once; --dry-run takes no lock', () => {
    const root = serverSandbox();
    const lock = acquireLock(root, { timeout: 1, command: 'test' });
    try {
      const t0 = Date.now();
      const r = runBin(installArgs(root, '--lock-timeout', '0'));
      expect(r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.stderr).toContain('timed out after 0 s');
      expect(runBin(installArgs(root, '--dry-run')).code).toBe(0);
    } finally {
      lock.release();
    }
  });

  it('a holder that is another tool (plain flock(1)) is named as such; bridgectl waits for it', async () => {
    const root = serverSandbox();
    mkdirSync(lockPath(root), { recursive: true, mode: 0o700 });
    const other = spawn('flock', [lockPath(root), 'sh', '-c', 'echo locked; sleep 2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => other.stdout.once('data', () => resolve()));

    const quick = runBin(installArgs(root, '--lock-timeout', '0.2'));
    expect(quick.code).toBe(1);
    expect(quick.stderr).toContain('held by a process that did not record itself (another tool honouring the lock?)');

    const t0 = Date.now();
    const patient = runBin(installArgs(root, '--lock-timeout', '30'));
    expect(patient.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // it waited for the other tool
    await new Promise((resolve) => other.once('close', resolve));
  });

  it('refuses a lock directory others can write to, or a planted symlink', () => {
    const root = sandbox();
    mkdirSync(path.dirname(lockPath(root)), { recursive: true });
    mkdirSync(lockPath(root), { mode: 0o777 });
    spawnSync('chmod', ['0777', lockPath(root)]);
    expect(() => acquireLock(root, { timeout: 1, command: 'test' })).toThrow(/writable by others/);

    const root2 = sandbox({ 'elsewhere/x': '' });
    mkdirSync(path.dirname(lockPath(root2)), { recursive: true });
    spawnSync('ln', ['-s', at(root2, '/elsewhere'), lockPath(root2)]);
    expect(() => acquireLock(root2, { timeout: 1, command: 'test' })).toThrow(/not a directory \(a symlink or a file was planted there\)/);
  });
});

/**
 * Where the lock lives. In the world-writable /run/lock, any local user could
 * create bridgectl's directory first (refused as "not ours": every install
 * fails until the next boot), or open the 0755 directory and hold the lock.
 */
describe('only root can create or take the lock', () => {
  const asWww = (...argv: string[]) => spawnSync('setpriv', ['--reuid=33', '--regid=33', '--clear-groups', '--', ...argv], { encoding: 'utf8' });

  it('lives in /run/bridgectl (in root-owned /run), 0700', () => {
    const root = serverSandbox();
    expect(lockPath(root)).toBe(at(root, '/run/bridgectl'));
    expect(lockPath('/')).toBe('/run/bridgectl');
    expect(runBin(installArgs(root, '--no-reload')).code).toBe(0);
    expect(statSync(lockPath(root)).mode & 0o7777).toBe(0o700);
    expect(statSync(at(root, '/run')).mode & 0o7777).toBe(0o755);
  });

  it('a directory another user made in the world-writable /run/lock stops nothing', () => {
    const root = serverSandbox();
    mkdirSync(at(root, '/run/lock'), { recursive: true });
    chmodSync(at(root, '/run/lock'), 0o1777);
    mkdirSync(at(root, '/run/lock/bridgectl'));
    chmodSync(at(root, '/run/lock/bridgectl'), 0o777);
    if (isRoot) chownSync(at(root, '/run/lock/bridgectl'), 33, 33);
    const r = runBin(installArgs(root, '--no-reload'));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });

  (isRoot ? it : it.skip)('another user can neither create the lock directory nor open it to hold the lock', () => {
    const root = serverSandbox();
    expect(runBin(installArgs(root, '--no-reload')).code).toBe(0);
    const held = asWww('flock', '-n', lockPath(root), 'true');
    expect(held.status).not.toBe(0);
    expect(held.stderr).toMatch(/Permission denied/);
    rmSync(lockPath(root), { recursive: true });
    const made = asWww('mkdir', lockPath(root));
    expect(made.status).not.toBe(0);
    expect(made.stderr).toMatch(/Permission denied/);
  });

  (isRoot ? it : it.skip)('a lock directory that is not ours is still refused, naming it and its owner', () => {
    const root = serverSandbox();
    mkdirSync(lockPath(root), { recursive: true, mode: 0o700 });
    chownSync(lockPath(root), 33, 33);
    const r = runBin(installArgs(root, '--no-reload'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lock directory ${lockPath(root)} is writable by others or not ours (owner uid 33, mode 0700)`);
  });

  it('a lock directory an older run left 0755 is made 0700 again', () => {
    const root = serverSandbox();
    mkdirSync(lockPath(root), { recursive: true });
    chmodSync(lockPath(root), 0o755);
    expect(runBin(installArgs(root, '--no-reload')).code).toBe(0);
    expect(statSync(lockPath(root)).mode & 0o7777).toBe(0o700);
  });
});

/**
 * The built bin against a lock held from outside, the way another tool (or
 * an admin, as root) takes it: `flock /run/bridgectl <command>`.
 */
describe('the built bin and a lock held by another process', () => {
  const holders: ChildProcess[] = [];
  afterEach(() => {
    // flock(1) and its command are one process group (detached): end exactly that group.
    for (const h of holders.splice(0)) if (h.pid !== undefined && h.exitCode === null) process.kill(-h.pid, 'SIGTERM');
  });

  /** Hold the lock with flock(1) until the test ends; resolves once it is held. */
  async function holdWithFlock(root: string): Promise<void> {
    mkdirSync(lockPath(root), { recursive: true, mode: 0o700 });
    const holder = spawn('flock', [lockPath(root), 'sh', '-c', 'echo locked; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    holders.push(holder);
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.once('data', () => resolve());
      holder.once('error', reject);
    });
    expect(spawnSync('flock', ['-n', lockPath(root), 'true']).status).toBe(1);
  }

  /** Every file (bytes, mode, mtime) and every directory under the root, the lock directory aside. */
  function tree(root: string): unknown {
    const dirs = spawnSync('find', [root, '-type', 'd', '-not', '-path', `${lockPath(root)}*`], { encoding: 'utf8' }).stdout.split('\n').sort();
    return { files: [...treeSnapshot(root)].filter(([p]) => !p.startsWith('/run/bridgectl/')), dirs };
  }

  it('an install that has something to write waits --lock-timeout 1, then exits 1 naming the lock and its holder; nothing is written', async () => {
    const root = serverSandbox();
    await holdWithFlock(root);
    const before = tree(root);
    const t0 = Date.now();
    const r = runBin(installArgs(root, '--lock-timeout', '1'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`timed out after 1 s waiting for the lock ${lockPath(root)}, held by a process that did not record itself (another tool honouring the lock?)`);
    expect(r.stdout).toBe('');
    expect(tree(root)).toEqual(before);
  });

  it('a no-op upgrade takes no lock: with the lock held it succeeds at once and writes nothing', async () => {
    const root = serverSandbox();
    expect(runBin(installArgs(root, '--no-reload')).code).toBe(0);
    await holdWithFlock(root);
    const before = tree(root);
    const t0 = Date.now();
    const r = runBin(['upgrade', '--site', SITE, '--root', root, '--lock-timeout', '30']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(Date.now() - t0).toBeLessThan(10_000); // it did not wait for the holder (30 s, then exit 1)
    expect(tree(root)).toEqual(before);
  });

  it('bridgectl holds the lock while it applies: a validator that waits for the staged files finds the lock taken, by bridgectl', () => {
    // The checks start before the lock; this one waits (up to 10 s) until apply has staged a file, then asks.
    // One line per probe, written at once: the validators run concurrently, so two appends each could interleave.
    const probe = [
      '#!/bin/sh',
      "n=0; until ls -a \"$STAGED_IN\" 2>/dev/null | grep -q '\\.tmp$' || [ $n -ge 200 ]; do sleep 0.05; n=$((n+1)); done",
      'flock -n "$LOCK" true; s=$?; h=$(cat "$LOCK/holder"); echo "flock -n: $s; $h" >> "$OUT"',
      'exit 0',
      '',
    ].join('\n');
    const root = serverSandbox({ 'probe/php': { content: probe, mode: 0o755 } });
    const out = at(root, '/probe/seen');
    const env = { BRIDGECTL_PHP: at(root, '/probe/php'), LOCK: lockPath(root), OUT: out, STAGED_IN: at(root, '/var/www/html/wp-content/mu-plugins') };
    const r = runBin(installArgs(root, '--no-reload'), { env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const seen = readFileSync(out, 'utf8').trim().split('\n');
    // One probe per PHP file validated (the channels file and the transport), each while the lock was held.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const line of seen) expect(line).toMatch(/^flock -n: 1; pid=\d+ since=\S+ command=bridgectl install$/);
    expect(existsSync(path.join(lockPath(root), 'holder'))).toBe(false); // released, and the record with it
    expect(spawnSync('flock', ['-n', lockPath(root), 'true']).status).toBe(0);
  });
});
