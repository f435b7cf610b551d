/**
 * The host lock: lost updates, timeouts that name the holder, and other tools
 * honouring it with plain flock(1).
 *
 * BRIDGECTL_SLOW=1 (npm run test:slow) repeats the concurrency run more.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acquireLock, lockPath } from '../../installer/lock.js';
import { listBlocks } from '../../installer/markers.js';
import { renderScaffold } from '../../installer/channel.js';
import { runBin } from '../helpers/cli.js';
import { sandbox, serverSandbox } from '../helpers/sandbox.js';
import { at, CHANNELS, installArgs, leftovers, MU, phpLintOk } from '../helpers/safety.js';
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
    mkdirSync(lockPath(root), { recursive: true, mode: 0o755 });
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

  it('bridgectl holds the lock while it plans and applies: flock(1) -n fails meanwhile', () => {
    const root = serverSandbox();
    const lock = acquireLock(root, { timeout: 1, command: 'test' });
    try {
      expect(spawnSync('flock', ['-n', lockPath(root), 'true']).status).toBe(1);
    } finally {
      lock.release();
    }
    expect(spawnSync('flock', ['-n', lockPath(root), 'true']).status).toBe(0);
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
