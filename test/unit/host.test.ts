/**
 * The live host (installer/facts/host.ts): how it reads, and the plan made
 * before the lock, kept under it only while the machine answers the same
 * (cli/mutate.ts; the snapshot comparison itself: test/unit/gather.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main, type Io } from '../../installer/cli/cli.js';
import { applyPlan } from '../../installer/apply/apply.js';
import { UserError } from '../../installer/model/errors.js';
import { fileChange } from '../../installer/plan/changes.js';
import { MAX_READ_BYTES, nodeHost, serverPathOf } from '../../installer/facts/host.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import * as sandboxHelpers from '../helpers/sandbox.js';
import { at, CHANNELS, SITE } from '../helpers/sandbox.js';

describe('the plan made before the lock', () => {
  const TOKEN = '123456789:AAbbccddeeffgghhiijjkkllmmnnooppqqr';
  const installArgv = (root: string) => ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload'];

  /** main() with a host factory that can act between the plan before the lock and the look under it. */
  async function run(argv: string[], underLock?: (root: string) => void, env: Io['env'] = { TELEGRAM_BOT_TOKEN: TOKEN }): Promise<{ code: number; stderr: string; hosts: number }> {
    let stderr = '';
    let hosts = 0;
    const io: Io = {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      env,
      host: (root, env) => {
        hosts += 1;
        if (hosts === 2) underLock?.(root);
        return nodeHost(root, env);
      },
    };
    return { code: await main(argv, io), stderr, hosts };
  }

  it('a run that writes looks at the machine again under the lock; a no-op looks once', async () => {
    const root = bridgeSandbox();
    const r = await run(installArgv(root));
    expect({ code: r.code, hosts: r.hosts }).toEqual({ code: 0, hosts: 2 });
    const again = await run(installArgv(root));
    expect({ code: again.code, hosts: again.hosts }).toEqual({ code: 0, hosts: 1 }); // a no-op takes no lock and looks once
  });

  it("reuses the checks started before the lock only while the machine answers the same", async () => {
    // A systemd-analyze stand-in that logs each run; the env reaches both the early checks and apply's.
    const logged = async (underLock?: (root: string) => void): Promise<number> => {
      const root = bridgeSandbox();
      const calls = at(root, '/tools/calls');
      const analyze = at(root, '/tools/systemd-analyze');
      mkdirSync(path.dirname(analyze), { recursive: true });
      writeFileSync(analyze, `#!/bin/sh\necho run >> ${calls}\nexit 0\n`, { mode: 0o755 });
      const r = await run(installArgv(root), underLock, { BRIDGECTL_SYSTEMD_ANALYZE: analyze, BRIDGECTL_PHP: 'none' });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      return readFileSync(calls, 'utf8').trim().split('\n').length;
    };
    expect(await logged()).toBe(1);
    // The bridge CLI's mode changed in between: the plan is made again (the same contents), and checked again.
    expect(await logged((r) => chmodSync(at(r, '/usr/local/bin/kimaki'), 0o750))).toBe(2);
  });

  it('is made again when a writer changed the channels file in between: that writer\'s channel is kept', async () => {
    const root = bridgeSandbox();
    expect((await run(installArgv(root))).code).toBe(0);
    // What a concurrent `channel set` leaves in the channels file, worked out in a copy of the site.
    const copy = mkdtempSync(path.join(tmpdir(), 'bridgectl-writer-'));
    cpSync(root, copy, { recursive: true });
    const set = await run(['channel', 'set', 'notify', '--site', SITE, '--root', copy, '--command', '/usr/local/bin/kimaki', '--arg', '{message}']);
    expect(set.code).toBe(0);
    const written = readFileSync(at(copy, CHANNELS), 'utf8');
    rmSync(copy, { recursive: true, force: true });

    // Our install planned before that writer ran, and takes the lock after it.
    const r = await run(['install', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload'], (r2) =>
      writeFileSync(at(r2, CHANNELS), written),
    );
    expect({ code: r.code, hosts: r.hosts }).toEqual({ code: 0, hosts: 2 });
    const channels = readFileSync(at(root, CHANNELS), 'utf8');
    for (const name of ['kimaki', 'notify', 'cc-connect']) expect(channels).toContain(`$channels['${name}'] = [`);
  });
});

describe('nodeHost.readText: what is at the path decides nothing (#17 item 2)', () => {
  const { isRoot, sandbox, SVC_UID, SVC_GID } = sandboxHelpers;

  it('refuses a file over MAX_READ_BYTES unread, naming the server path', () => {
    const root = sandbox({ 'etc/big.conf': '' });
    truncateSync(at(root, '/etc/big.conf'), MAX_READ_BYTES + 1); // sparse: nothing is allocated
    expect(() => nodeHost(root, {}).readText('/etc/big.conf')).toThrow(new UserError('/etc/big.conf is larger than 16 MiB; bridgectl does not read files that big'));
  });

  it('reads a file of exactly MAX_READ_BYTES', () => {
    const root = sandbox({ 'etc/edge.conf': '' });
    truncateSync(at(root, '/etc/edge.conf'), MAX_READ_BYTES);
    expect(nodeHost(root, {}).readText('/etc/edge.conf')?.length).toBe(MAX_READ_BYTES);
  });

  it.each([
    ['a FIFO', (p: string) => expect(spawnSync('mkfifo', [p]).status).toBe(0), 'a FIFO (named pipe)'],
    ['a link to /dev/zero', (p: string) => symlinkSync('/dev/zero', p), 'a character device'],
    ['a directory', (p: string) => mkdirSync(p), 'a directory'],
  ])('refuses %s in a root-owned directory as what it is, at once', (_what, plant, kind) => {
    const root = sandbox({ 'etc/keep': '' });
    plant(at(root, '/etc/x.conf'));
    expect(() => nodeHost(root, {}).readText('/etc/x.conf')).toThrow(`/etc/x.conf is ${kind}, not a regular file`);
  });

  it('follows a link in a directory only root (or whoever runs bridgectl) controls', () => {
    const root = sandbox({ 'etc/real.conf': 'hello\n' });
    symlinkSync(at(root, '/etc/real.conf'), at(root, '/etc/x.conf'));
    expect(nodeHost(root, {}).readText('/etc/x.conf')).toBe('hello\n');
  });

  it('does not follow a link in a directory another user controls, even to a regular file', () => {
    const root = sandbox({ 'etc/secret': 'root only\n', 'home/opencode/.config/bot/keep': '' });
    const dir = at(root, '/home/opencode/.config/bot');
    // As root: the service user owns it; otherwise: others may write it. Either way it is not ours alone.
    if (isRoot) chownSync(dir, SVC_UID, SVC_GID);
    else chmodSync(dir, 0o777);
    symlinkSync(at(root, '/etc/secret'), path.join(dir, '.env'));
    const who = isRoot ? `which uid ${SVC_UID} owns` : 'which others can write (mode 0777)';
    expect(() => nodeHost(root, {}).readText('/home/opencode/.config/bot/.env')).toThrow(
      new UserError(`/home/opencode/.config/bot/.env is a symlink in /home/opencode/.config/bot, ${who}; bridgectl does not follow it there`),
    );
  });

  // Another user's directory link must lead to a directory that user owns: not root's secrets, yet a deploy user's current -> releases/N.
  (isRoot ? it : it.skip)('does not read through a directory link another user planted to a directory they do not own', () => {
    const root = sandbox({ 'root/secrets/.env': 'TELEGRAM_BOT_TOKEN=root-only\n', 'home/opencode/releases/1/.env': 'OWN=1\n' });
    const home = at(root, '/home/opencode');
    for (const p of [home, `${home}/releases`, `${home}/releases/1`, `${home}/releases/1/.env`]) chownSync(p, SVC_UID, SVC_GID);
    mkdirSync(`${home}/.config`);
    chownSync(`${home}/.config`, SVC_UID, SVC_GID);
    symlinkSync(at(root, '/root/secrets'), `${home}/.config/bot`);
    symlinkSync(`${home}/releases/1`, `${home}/current`);
    const host = nodeHost(root, {});
    expect(() => host.readText('/home/opencode/.config/bot/.env')).toThrow(
      `/home/opencode/.config/bot is a symlink in /home/opencode/.config (which uid ${SVC_UID} owns) to a directory uid 0 owns; bridgectl does not read through it`,
    );
    expect(host.readText('/home/opencode/current/.env')).toBe('OWN=1\n');
  });

  it('apply does not read whole a file that grew past the cap after it was planned', async () => {
    const root = sandbox({ 'etc/x.conf': 'old\n' });
    const change = fileChange('/etc/x.conf', 'old\n', 'new\n', 0o644, 0o644);
    truncateSync(at(root, '/etc/x.conf'), MAX_READ_BYTES + 1);
    await expect(applyPlan({ changes: [change], directories: [], identities: {}, notes: [] }, root)).rejects.toThrow('/etc/x.conf grew while bridgectl was planning; nothing was written');
  });

  it('names the server path when the OS refuses the read', () => {
    const root = sandbox({ 'etc/notadir': 'x' });
    let err: unknown;
    try {
      nodeHost(root, {}).readText('/etc/notadir/x.conf');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'HostError', code: 'ENOTDIR', message: 'cannot read /etc/notadir/x.conf: a component of the path is not a directory (ENOTDIR)' });
  });
});

describe('readText', () => {
  it('keeps a byte-order mark, and refuses invalid UTF-8 naming its line', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bridgectl-utf8-'));
    try {
      chmodSync(root, 0o755);
      writeFileSync(path.join(root, 'bom.txt'), Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0xe2, 0x80, 0x94, 0x0a]));
      writeFileSync(path.join(root, 'bad.txt'), Buffer.concat([Buffer.from('ok\nstill ok\n'), Buffer.from([0x78, 0xc0, 0xaf, 0x0a])]));
      const host = nodeHost(root, {});
      expect(host.readText('/bom.txt')).toBe('\ufeffa\u2014\n');
      expect(() => host.readText('/bad.txt')).toThrow('/bad.txt:3: line 3 is not valid UTF-8');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('serverPathOf: the current directory as the server sees it (where the site is looked for)', () => {
  it('strips --root, and is undefined outside it', () => {
    expect(serverPathOf('/', '/var/www/html')).toBe('/var/www/html');
    expect(serverPathOf('/tmp/sb', '/tmp/sb/var/www/html/wp-content')).toBe('/var/www/html/wp-content');
    expect(serverPathOf('/tmp/sb', '/tmp/sb')).toBe('/');
    expect(serverPathOf('/tmp/sb', '/tmp/sb2/var')).toBeUndefined();
    expect(serverPathOf('/tmp/sb', '/home')).toBeUndefined();
  });
});
