/** A non-root run on the live host is told in one line what it needs, before anything is read or locked (#19 item 3). */
import { describe, expect, it } from '@jest/globals';
import { main } from '../../installer/cli/cli.js';
import type { Io } from '../../installer/cli/types.js';
import { SITE } from '../helpers/sandbox.js';

/** main() as uid 1000; building the host view (the first read of the machine) fails the test. */
async function asUser(argv: string[], uid = 1000): Promise<{ code: number; stdout: string; stderr: string; read: boolean }> {
  let stdout = '';
  let stderr = '';
  let read = false;
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    uid,
    host: () => {
      read = true;
      throw new Error('read the machine');
    },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr, read };
}

const NEEDS_ROOT: readonly (readonly string[])[] = [
  ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode'],
  ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--dry-run'],
  ['upgrade', '--site', SITE],
  ['uninstall', '--bridge', 'kimaki', '--site', SITE],
  ['channel', 'set', 'notify', '--site', SITE, '--command', '/bin/true'],
  ['channel', 'remove', 'notify', '--site', SITE],
  ['check', '--site', SITE],
];

describe('non-root on the live host', () => {
  it.each(NEEDS_ROOT)('%s … says in one line that it needs root or --root DIR, reading nothing', async (...argv) => {
    const name = argv.filter((a, i) => !a.startsWith('-') && (i === 0 || (argv[0] === 'channel' && i === 1))).join(' ');
    const r = await asUser([...argv, '--root', '/']);
    expect(r.code).toBe(1);
    expect(r.read).toBe(false);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`bridgectl: ${name} needs root on the live host: run it as root (sudo bridgectl ${name} ...), or pass --root DIR to work on a sandbox\n`);
  });

  it('--json keeps its one document, the error naming what is needed', async () => {
    const r = await asUser(['upgrade', '--site', SITE, '--json']);
    expect(r.read).toBe(false);
    expect(JSON.parse(r.stdout).error.message).toMatch(/^upgrade needs root on the live host/);
  });

  it.each([
    ['doctor', '--site', SITE],
    ['channel', 'list', '--site', SITE],
  ])('%s %s needs no root: it reads the machine', async (...argv) => {
    const r = await asUser([...argv, '--root', '/']);
    expect(r.read).toBe(true);
    expect(r.stderr).not.toMatch(/needs root/);
  });

  it('render needs no root and reads nothing', async () => {
    const r = await asUser(['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/usr/bin/kimaki', '--root', '/']);
    expect(r.code).toBe(0);
    expect(r.read).toBe(false);
  });

  it('root itself, and a sandbox (--root DIR) for anyone, go on to read the machine', async () => {
    expect((await asUser(['upgrade', '--site', SITE, '--root', '/'], 0)).read).toBe(true);
    expect((await asUser(['upgrade', '--site', SITE, '--root', '/tmp/some-sandbox'])).read).toBe(true);
  });
});
