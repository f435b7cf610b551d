/**
 * Processes bridgectl starts while it plans, on the live host (--root /):
 * getent once per database and `sudo -V` once per run, however many
 * bridges ask: each is one item of the run's facts snapshot.
 * The one process runner (installer/process/run.ts) is spied: every process
 * bridgectl starts goes through it.
 */
import { main, type Io } from '../../installer/cli/cli.js';
import { nodeHost } from '../../installer/facts/host.js';
import { type Facts } from '../../installer/model/facts.js';
import { processRunner } from '../../installer/process/run.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { PASSWD, GROUP, SITE } from '../helpers/sandbox.js';

type Call = { file: string; args: readonly string[] };

/** Replace runSync: getent answers from the sandbox's passwd and group, sudo -V with a version; everything else really runs. */
function spySpawns(): { calls: Call[]; restore(): void } {
  const calls: Call[] = [];
  const real = processRunner.runSync;
  processRunner.runSync = (file, args, options) => {
    calls.push({ file, args });
    const answer = (stdout: string) => ({ status: 0, stdout, stderr: '' });
    if (file === 'getent') return answer(args[0] === 'passwd' ? PASSWD : GROUP);
    if (file.endsWith('/sudo') && args[0] === '-V') return answer('Sudo version 1.9.15p5\n');
    return real(file, args, options);
  };
  return {
    calls,
    restore: () => {
      processRunner.runSync = real;
    },
  };
}

it('a live host runs getent once per database, however often users and groups are looked up', () => {
  const { calls, restore } = spySpawns();
  try {
    const host = nodeHost('/', {});
    for (let i = 0; i < 3; i++) {
      const user = host.user('opencode');
      expect(user?.home).toBe('/home/opencode');
      host.userByUid(33);
      host.usersWithHome('/root');
      host.groupIds(user as NonNullable<typeof user>);
      host.groupName(0);
    }
    expect(calls.filter((c) => c.file === 'getent').map((c) => c.args.join(' '))).toEqual(['passwd', 'group']);
  } finally {
    restore();
  }
});

it('a run plans two sudo-mode bridges on the live host with one sudo -V and one getent per database', async () => {
  const root = bridgeSandbox();
  // The sandbox, presented as the live host: planning takes every live-host path (getent, sudo -V).
  let hosts = 0;
  const liveLike = (_root: string, env: Io['env']): Facts => {
    hosts++;
    const files = nodeHost(root, env);
    const live = nodeHost('/', env);
    return { ...files, root: '/', users: live.users, groups: live.groups, sudo: live.sudo, user: live.user, userByUid: live.userByUid, usersWithHome: live.usersWithHome, groupIds: live.groupIds, groupName: live.groupName };
  };
  const { calls, restore } = spySpawns();
  try {
    let stderr = '';
    const io: Io = { stdout: () => undefined, stderr: (t) => (stderr += t), env: {}, host: liveLike };
    const argv = ['install', '--bridge', 'kimaki', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--dispatch', 'sudo', '--dry-run'];
    expect({ code: await main(argv, io), stderr }).toEqual({ code: 0, stderr: '' });
    expect(hosts).toBe(1);
    expect(calls.filter((c) => c.file === 'getent').map((c) => c.args.join(' '))).toEqual(['passwd', 'group']);
    expect(calls.filter((c) => c.args[0] === '-V').map((c) => c.file)).toEqual(['/usr/bin/sudo']);
  } finally {
    restore();
  }
});
