/**
 * #17 item 1: in sudo mode, whoever can write the CLI the hop runs, or a
 * directory on the way to it or above the hop's files, can run anything as
 * the service user (as root with --run-as-root). Fake ownership, any machine.
 */
import { kimaki } from '../../bridges/kimaki.js';
import type { ChannelSpec } from '../../installer/model/channel.js';
import { UserError } from '../../installer/model/errors.js';
import type { Facts } from '../../installer/model/facts.js';
import { unsafeHopPaths, type HopOwnersInput } from '../../installer/plan/hop-owners.js';
import type { Identity } from '../../installer/model/identity.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { planDispatch, refuseUnsafeHop } from '../../installer/plan/sudo-hop.js';
import { inspectDispatch } from '../../installer/plan/hop-installed.js';
import { probeHopCli, probeHopDirectories } from '../../installer/doctor/sudo-probe.js';
import { CHUBES, dir, exe, fakeHost, ROOT, WWW, type FakeEntry } from '../helpers/fake-host.js';

const HOP = hopPaths('kimaki');
const AS_ROOT = { serviceUser: 'root', uid: 0, gid: 0, home: '/root' };
const AS_CHUBES = { serviceUser: 'chubes', uid: CHUBES.uid, gid: CHUBES.gid, home: CHUBES.home };

function identityFor(binary: string, who: typeof AS_ROOT = AS_ROOT): Identity {
  return { ...who, dataDir: `${who.home}/.kimaki`, binary, binaries: { kimaki: binary }, site: '/var/www/html', init: 'none' };
}

/** install --bridge kimaki --dispatch sudo --web-user www-data --binary <binary>, planned against fake files. */
function plan(files: Record<string, string | FakeEntry>, binary: string, who: typeof AS_ROOT = AS_ROOT, host: Facts = fakeHost({ files })) {
  const identity = identityFor(binary, who);
  const spec = kimaki.channel(identity, {}) as ChannelSpec;
  return planDispatch({
    bridge: kimaki, identity, spec, installed: inspectDispatch(kimaki, undefined, host), host, notes: [], action: 'install',
    flags: { dispatch: 'sudo', webUsers: ['www-data'], sudoRegex: true },
  });
}
const refusal = (p: ReturnType<typeof plan>): string => {
  try {
    refuseUnsafeHop(p);
  } catch (err) {
    if (err instanceof UserError) return `${err.message}\nfix: ${err.hint ?? ''}`;
    throw err;
  }
  return 'not refused';
};

describe('sudo mode refuses a hop that someone other than root could change', () => {
  it("the reviewer's case: --run-as-root with a CLI owned by www-data", () => {
    const p = plan({ '/var/www/bin/kimaki': exe(WWW.uid) }, '/var/www/bin/kimaki');
    expect(refusal(p)).toBe(
      'kimaki: refusing the sudo hop: /var/www/bin/kimaki is owned by www-data (uid 33), so www-data could change the kimaki CLI, which the hop runs as root\n' +
        'fix: install kimaki where only root can write it (e.g. /usr/local/bin) and pass --binary, or: chown root:root /var/www/bin/kimaki && chmod go-w /var/www/bin/kimaki',
    );
  });

  it('a root-owned CLI in a directory www-data owns, or may write through its group, or anyone may', () => {
    expect(refusal(plan({ '/var/www/bin': dir(WWW.uid, WWW.gid), '/var/www/bin/kimaki': exe() }, '/var/www/bin/kimaki'))).toContain(
      '/var/www/bin is owned by www-data (uid 33), so www-data could change the kimaki CLI /var/www/bin/kimaki, which the hop runs as root',
    );
    expect(refusal(plan({ '/opt/bin': dir(0, WWW.gid, 0o775), '/opt/bin/kimaki': exe() }, '/opt/bin/kimaki'))).toContain('/opt/bin is group-writable (group www-data, mode 0775), so group www-data could change');
    expect(refusal(plan({ '/opt': dir(0, 0, 0o777), '/opt/bin/kimaki': exe() }, '/opt/bin/kimaki'))).toContain('/opt is world-writable (mode 0777), so any local user could change');
    // A file under /tmp: its owner (root here) is fine, the sticky directory is not, and chmod is no fix for /tmp.
    const tmp = refusal(plan({ '/tmp': dir(0, 0, 0o1777), '/tmp/kimaki': exe() }, '/tmp/kimaki'));
    expect(tmp).toContain('/tmp is world-writable (mode 01777), so any local user could change the kimaki CLI /tmp/kimaki');
    expect(tmp).toContain('fix: install kimaki where only root can write it (e.g. /usr/local/bin) and pass --binary');
    expect(tmp).not.toContain('chmod');
    // Group write for root's group is root's business.
    expect(plan({ '/opt/bin': dir(0, 0, 0o775), '/opt/bin/kimaki': exe() }, '/opt/bin/kimaki').unsafe).toEqual([]);
  });

  it("the service user may own its own CLI (it runs as that user anyway), but not once the hop runs it as root", () => {
    const files = { '/home/chubes': dir(CHUBES.uid, CHUBES.gid, 0o750), '/home/chubes/bin/kimaki': exe(CHUBES.uid), '/home/chubes/bin': dir(CHUBES.uid, CHUBES.gid) };
    expect(plan(files, '/home/chubes/bin/kimaki', AS_CHUBES).unsafe).toEqual([]);
    expect(refusal(plan(files, '/home/chubes/bin/kimaki', AS_ROOT))).toContain('/home/chubes is owned by chubes (uid 1000), so chubes could change the kimaki CLI /home/chubes/bin/kimaki, which the hop runs as root');
    // Another user's file is refused whoever the hop runs as.
    expect(refusal(plan({ '/opt/kimaki': exe(WWW.uid) }, '/opt/kimaki', AS_CHUBES))).toContain('which the hop runs as chubes');
  });

  it('a directory above the target, the wrapper or the grant that is not root\'s alone', () => {
    const files = { '/usr/local/bin/kimaki': exe() };
    expect(plan(files, '/usr/local/bin/kimaki').unsafe).toEqual([]);
    expect(refusal(plan({ ...files, '/usr/local/lib/bridgectl': dir(WWW.uid, WWW.gid) }, '/usr/local/bin/kimaki'))).toBe(
      'kimaki: refusing the sudo hop: /usr/local/lib/bridgectl is owned by www-data (uid 33), so www-data could change the dispatch target /usr/local/lib/bridgectl/kimaki-dispatch-target, which sudo runs as root\n' +
        'fix: chown root:root /usr/local/lib/bridgectl && chmod go-w /usr/local/lib/bridgectl (bridgectl writes the sudo hop there as root)',
    );
    expect(refusal(plan({ ...files, '/etc/sudoers.d': dir(0, WWW.gid, 0o775) }, '/usr/local/bin/kimaki'))).toContain('so group www-data could change the sudoers grant /etc/sudoers.d/bridgectl-kimaki');
    // /usr/local/bin holds both the CLI and the wrapper: one problem, named once, with how many more.
    const both = plan({ '/usr/local': dir(WWW.uid, WWW.gid), '/usr/local/bin/kimaki': exe() }, '/usr/local/bin/kimaki');
    expect(both.unsafe.map((u) => u.path)).toEqual(['/usr/local']);
    const two = plan({ '/usr/local/bin/kimaki': exe(WWW.uid), '/etc': dir(WWW.uid, 0) }, '/usr/local/bin/kimaki');
    expect(refusal(two)).toContain('which the hop runs as root (and 1 more: /etc)');
  });

  it('the hop files themselves are not refused: bridgectl rewrites them root-owned (a planned change)', () => {
    const p = plan({ '/usr/local/bin/kimaki': exe(), [HOP.target]: { content: 'x', uid: WWW.uid, gid: WWW.gid, mode: 0o777 } }, '/usr/local/bin/kimaki');
    expect(p.unsafe).toEqual([]);
    expect(p.files.find((f) => f.path === HOP.target)).toMatchObject({ status: 'update', mode: 0o755 });
  });

  it('doctor reports the same as failed probes, and ok on a safe hop', () => {
    const host = fakeHost({ files: { '/var/www/bin/kimaki': exe(WWW.uid), '/usr/local/lib/bridgectl': dir(WWW.uid, WWW.gid) } });
    const hop = plan({}, '/var/www/bin/kimaki', AS_ROOT, host).hop;
    if (!hop) throw new Error('no hop planned');
    expect(probeHopCli(host, hop)).toMatchObject({ id: 'hop.cli', status: 'fail', message: '/var/www/bin/kimaki is owned by www-data (uid 33), so www-data could change the kimaki CLI, which the hop runs as root' });
    expect(probeHopDirectories(host, hop)).toMatchObject({ id: 'hop.dirs', status: 'fail', message: expect.stringContaining('/usr/local/lib/bridgectl is owned by www-data (uid 33)') });
    const safe = fakeHost({ files: { '/var/www/bin/kimaki': exe() } });
    expect(probeHopCli(safe, hop)).toMatchObject({ status: 'ok', message: '/var/www/bin/kimaki and every directory on the way to it are writable only by root' });
    expect(probeHopDirectories(safe, hop)).toMatchObject({ status: 'ok' });
  });
});

describe('who counts as root', () => {
  const input: HopOwnersInput = { bridgeId: 'kimaki', binaryName: 'kimaki', cli: '/opt/kimaki', serviceUser: 'root', serviceUid: 0, paths: HOP };
  const mine = { '/opt/kimaki': exe(4242) };
  it('the user running bridgectl, only in a sandbox root it cannot chown', () => {
    const live = fakeHost({ files: mine, users: [ROOT, WWW, CHUBES] });
    expect(unsafeHopPaths(live, input, { uid: 4242, gid: 4242 }).map((u) => u.path)).toEqual(['/opt/kimaki']);
    const sandbox: Facts = { ...live, root: '/tmp/sandbox' };
    expect(unsafeHopPaths(sandbox, input, { uid: 4242, gid: 4242 })).toEqual([]);
    expect(unsafeHopPaths(sandbox, input, { uid: 0, gid: 0 }).map((u) => u.path)).toEqual(['/opt/kimaki']);
  });

  it('is the invoking uid and gid of the facts, not of the process planning', () => {
    const sandbox = (uid: number): Facts => ({ ...fakeHost({ files: mine, users: [ROOT, WWW, CHUBES], uid, gid: uid }), root: '/tmp/sandbox' });
    expect(unsafeHopPaths(sandbox(4242), input)).toEqual([]);
    expect(unsafeHopPaths(sandbox(0), input).map((u) => u.path)).toEqual(['/opt/kimaki']);
  });
});
