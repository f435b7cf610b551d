/**
 * #17 item 10: an error is one line (plus `fix:`) that names the server
 * path as the operator knows it: never an empty path (`write  failed:
 * ENOSPC`), a /proc/self/fd path, a temp file's or a sandbox's host path.
 * Facts problems are not "internal error, please report this"; quoted values
 * are bounded and show what they hide.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { visudoValidator } from '../../installer/apply/apply.js';
import { hostError, MarkerError, oneLine, serverPathOf, showInvisible, UserError, withPath } from '../../installer/model/errors.js';
import { processRunner } from '../../installer/process/run.js';
import { BIN, runMain } from '../helpers/cli.js';
import { at, CHANNELS, isRoot, PASSWD, sandbox, serverSandbox, SITE } from '../helpers/sandbox.js';

const install = (root: string, ...extra: string[]): string[] => ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload', ...extra];

/** What every error must not look like. */
function expectPlainError(stderr: string, root: string): void {
  expect(stderr).not.toMatch(/internal error|please report|  failed:|\/proc\/self\/fd|\.bridgectl-[0-9a-f]{12}\.tmp|NaN/);
  expect(stderr).not.toContain(root);
  expect(stderr).toMatch(/^bridgectl: .*\n {2}fix: .*\n/);
}

describe('OS refusals name the server path', () => {
  // A private mount namespace gives a full or read-only filesystem under the sandbox, and nothing outside sees it.
  const canMount = isRoot && spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status === 0;
  if (process.env.CI && !canMount) {
    it('has its prerequisites (CI never skips this)', () => {
      throw new Error('CI: these tests need root and unshare(1) to mount a tmpfs in a private namespace');
    });
  }
  const itMounting = canMount ? it : it.skip;

  /** Run the built CLI in a private mount namespace after `setup` (shell) has run there. */
  function runMounted(setup: string, argv: string[]): { code: number | null; stderr: string } {
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, BIN, ...argv], { encoding: 'utf8' });
    return { code: r.status, stderr: r.stderr };
  }

  itMounting('a full filesystem: "cannot write <the managed file>: no space left (ENOSPC)", not `write  failed: ENOSPC`', () => {
    const root = serverSandbox();
    const mu = at(root, `${SITE}/wp-content/mu-plugins`);
    mkdirSync(mu, { recursive: true });
    const r = runMounted(`mount -t tmpfs -o size=16k tmpfs '${mu}' && (dd if=/dev/zero of='${mu}/filler' bs=1k count=64 2>/dev/null || true)`, install(root));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^bridgectl: cannot write ${SITE}/wp-content/mu-plugins/wp-coding-agents-(channels|cli-transport)\\.php: no space left on the device \\(ENOSPC\\)\\n`));
    expectPlainError(r.stderr, root);
  });

  itMounting('a read-only filesystem: the directory it could not create, not /proc/self/fd/N/system', () => {
    const root = serverSandbox();
    mkdirSync(at(root, '/etc/systemd'), { recursive: true });
    const r = runMounted(`mount -t tmpfs -o ro tmpfs '${at(root, '/etc/systemd')}'`, install(root));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bridgectl: cannot create the directory /etc/systemd/system: read-only filesystem (EROFS)\n');
    expectPlainError(r.stderr, root);
  });
});

describe('the path in a message', () => {
  it('is the server path under --root, and a temp file reads as the file it stands for', () => {
    expect(serverPathOf('/tmp/sb/etc/systemd/system/.kimaki.service.bridgectl-0123456789ab.tmp', '/tmp/sb')).toBe('/etc/systemd/system/kimaki.service');
    expect(serverPathOf('/tmp/sb/etc/x', '/tmp/sb')).toBe('/etc/x');
    expect(serverPathOf('/tmp/sb', '/tmp/sb')).toBe('/');
    expect(serverPathOf('/tmp/sbother/x', '/tmp/sb')).toBe('/tmp/sbother/x'); // not under root: as it is
    expect(serverPathOf('/etc/.x.bridgectl-0123456789ab.tmp', '/')).toBe('/etc/x');
  });

  it('a write or fsync error, which carries no path, gets the one its caller knows', () => {
    const err = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', syscall: 'fsync' });
    withPath(err, '/tmp/sb/etc/.x.bridgectl-0123456789ab.tmp');
    const e = hostError(err, 'fsync', serverPathOf((err as NodeJS.ErrnoException).path ?? '', '/tmp/sb')) as UserError;
    expect([e.message, e.hint]).toEqual(['cannot sync /etc/x: input/output error (EIO)', 'check the disk (dmesg) before running again']);
  });
});

describe('host problems are ordinary errors with a fix', () => {
  it('a visudo that is not executable', () => {
    const root = sandbox({ 'usr/sbin/visudo': '#!/bin/sh\nexit 0\n', 'etc/x': 'x' });
    chmodSync(at(root, '/usr/sbin/visudo'), 0o644);
    const validate = visudoValidator(processRunner, () => at(root, '/usr/sbin/visudo'));
    let err: unknown;
    try {
      validate(at(root, '/etc/x'), '/etc/sudoers.d/bridgectl-kimaki', '/');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(`${at(root, '/usr/sbin/visudo')} could not be run (EACCES), so /etc/sudoers.d/bridgectl-kimaki cannot be checked; nothing was written to it`);
    expect((err as UserError).hint).toMatch(/^repair sudo/);
  });

  it('a web user named Defaults (a sudoers keyword)', async () => {
    const root = serverSandbox({ 'etc/passwd': `${PASSWD}Defaults:x:34:34::/var/www:/usr/sbin/nologin\n` });
    const r = await runMain(install(root, '--dispatch', 'sudo', '--web-user', 'Defaults'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bridgectl: user name "Defaults" cannot be written into a sudoers grant (it is a sudoers keyword)\n');
    expectPlainError(r.stderr, root);
  });

  it('a binary path systemd-analyze rejects: the fix points at the values passed in, not at a bug', async () => {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
      if (process.env.CI) throw new Error('CI: systemd-analyze is required (apt-get install systemd)');
      return;
    }
    // A path ending in '/' passes bridgectl's own checks once forced past the existence check; systemd-analyze refuses it ("specifies a directory").
    const root = serverSandbox({ 'opt/kimaki': { content: '#!/bin/sh\n', mode: 0o755 } });
    const r = await runMain(install(root, '--binary', '/opt/kimaki/', '--allow-missing-binary'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fails systemd-analyze verify');
    expect(r.stderr).toContain('/opt/kimaki/');
    expectPlainError(r.stderr, root);
  });

  it.each([
    ['abc', 'not a number'],
    ['-5', 'got -5'],
  ])('--lock-timeout %s: a clear usage error, before anything runs', async (value, got) => {
    const root = serverSandbox();
    const r = await runMain(['upgrade', '--site', SITE, '--root', root, '--lock-timeout', value]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`bridgectl: --lock-timeout takes a number of seconds, 0 or more (${got})\n`);
    expectPlainError(r.stderr, root);
  });
});

describe('quoted values are bounded and show what they hide', () => {
  it('a 1 MB home in passwd gives a short error', async () => {
    const root = serverSandbox();
    const passwd = readFileSync(at(root, '/etc/passwd'), 'utf8').replace(':/home/opencode:', `:/home/${'a'.repeat(1_000_000)}:`);
    writeFileSync(at(root, '/etc/passwd'), passwd);
    const r = await runMain(install(root));
    expect(r.code).toBe(1);
    expect(r.stderr.length).toBeLessThan(1000);
    expect(r.stderr).toContain('aaa…');
    expect(r.stderr).not.toContain('internal');
  });

  it('oneLine cuts any stretch without a space to 200 characters', () => {
    expect(oneLine(`x ${'b'.repeat(500)} y`)).toBe(`x ${'b'.repeat(200)}… y`);
    expect(oneLine('short /etc/x')).toBe('short /etc/x');
  });

  it.each([
    ['a no-break space', '// END\u00a0bridge:kimaki', '"// END\\u00a0bridge:kimaki"'],
    ['a U+2028', '// END bridge:kimaki\u2028x', '"// END bridge:kimaki\\u2028x"'],
  ])('a marker error whose line hides %s shows it escaped', async (_what, bad, shown) => {
    const root = serverSandbox();
    expect((await runMain(install(root))).code).toBe(0);
    const text = readFileSync(at(root, CHANNELS), 'utf8');
    writeFileSync(at(root, CHANNELS), text.replace('// END bridge:kimaki', bad));
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`malformed marker ${shown}`);
    expect(r.stderr).not.toMatch(/[\u00a0\u2028]/);
  });

  it('escapes invisible characters, keeps visible ones (an em dash) and the space', () => {
    expect(showInvisible('a\u00a0b\u2028c\u200bd\ufeffe \u2014 f\t')).toBe('a\\u00a0b\\u2028c\\u200bd\\ufeffe \u2014 f\\u0009');
    expect(new MarkerError('malformed marker "x\u00a0y"', 3).message).toBe('line 3: malformed marker "x\\u00a0y"');
  });
});

