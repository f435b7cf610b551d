/**
 * The probes over a sandbox root (the live ones run in test/sudo/live.test.ts),
 * and planning for a bridge that has no sudo hop.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { kimaki } from '../../bridges/kimaki.js';
import type { BridgeDefinition } from '../../installer/model/bridge.js';
import { planInstall } from '../../installer/cli/commands/install.js';
import { nodeHost } from '../../installer/facts/host.js';
import { resolveIdentity } from '../../installer/identity/identity.js';
import { planDispatch, type HopFacts } from '../../installer/plan/sudo-hop.js';
import { inspectDispatch } from '../../installer/plan/hop-installed.js';
import { probeGrant, probeHopDirectories, probeHopFiles, probeSudoBinary, probeSudoHop, probeSudoVersion, probeVisudo } from '../../installer/doctor/sudo-probe.js';
import { runnerOf } from '../../installer/process/run.js';
import { runMain } from '../helpers/cli.js';
import { at, serverSandbox, SITE, SVC_UID } from '../helpers/sandbox.js';

async function installed(): Promise<{ root: string; hop: HopFacts; files: ReturnType<typeof planInstall>['changes'] }> {
  const root = serverSandbox();
  const args = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--dispatch', 'sudo', '--root', root];
  expect((await runMain(args)).code).toBe(0);
  const host = nodeHost(root, {});
  const plan = planInstall({ bridges: ['kimaki'], site: SITE, serviceUser: 'opencode', init: 'none' }, host);
  const files = plan.changes.slice(0, 3);
  const hop: HopFacts = {
    bridge: 'kimaki',
    paths: { sudoers: files[0]?.path ?? '', target: files[1]?.path ?? '', wrapper: files[2]?.path ?? '' },
    serviceUser: 'opencode',
    serviceUid: SVC_UID,
    cli: '/usr/local/bin/kimaki',
    binaryName: 'kimaki',
    webUsers: ['www-data'],
    form: 'regex',
    subcommand: 'send',
    sample: '123456789012345678',
  };
  return { root, hop, files };
}

const never = runnerOf(() => {
  throw new Error('no process may start in a sandbox probe');
});

describe('sudo probes in a sandbox root', () => {
  it('say which probes need the live host, and start nothing', async () => {
    const { root, hop } = await installed();
    const host = nodeHost(root, {});
    expect(probeSudoBinary(host)).toMatchObject({ status: 'skip' });
    expect(probeSudoVersion(host, never)).toMatchObject({ status: 'skip', message: expect.stringContaining('not on the live host') });
    expect(probeGrant(host, hop, never)).toEqual([{ id: 'hop.grant', status: 'skip', message: `not on the live host (--root ${root}): the grant was not tried` }]);
  });

  it('find the hop files as bridgectl writes them, and name each difference', async () => {
    const { root, hop, files } = await installed();
    const host = nodeHost(root, {});
    const wantOwner = process.getuid?.() === 0;
    const first = probeHopFiles(host, files);
    if (wantOwner) expect(first.map((p) => p.status)).toEqual(['ok', 'ok', 'ok']);
    writeFileSync(at(root, hop.paths.target), 'tampered\n');
    chmodSync(at(root, hop.paths.wrapper), 0o775);
    const after = probeHopFiles(host, files);
    expect(after[1]?.message).toContain('its content differs from what bridgectl writes');
    expect(after[2]?.message).toContain('mode 0775, want 0755');
    expect(after[2]?.fix).toMatch(/bridgectl upgrade/);
  });

  it('report a missing file, and a visudo verdict from the runner', async () => {
    const { root, hop, files } = await installed();
    const host = nodeHost(root, {});
    const refuse = runnerOf((file, args) => (file.endsWith('visudo') && args[0] === '-c' ? { status: 1, stdout: '', stderr: 'bad: syntax error\n' } : { status: null, stdout: '', stderr: '', error: 'ENOENT' }));
    expect(probeVisudo(host, hop, refuse)).toMatchObject({ status: 'fail', message: `${hop.paths.sudoers} fails visudo -cf: bad: syntax error` });
    const ok = runnerOf(() => ({ status: 0, stdout: 'parsed OK', stderr: '' }));
    expect(probeVisudo(host, hop, ok)).toMatchObject({ status: 'ok' });
    const gone = probeHopFiles(nodeHost(serverSandbox(), {}), files);
    expect(gone.map((p) => p.message)).toEqual(files.map((f) => `${f.path} is missing`));
    expect(probeHopDirectories(host, hop).status).not.toBe('fail');
    expect(probeSudoHop(host, hop, files, ok).map((p) => p.id)).toEqual(['sudo.binary', 'sudo.version', 'hop.file', 'hop.file', 'hop.file', 'hop.dirs', 'hop.cli', 'hop.visudo', 'hop.grant']);
  });
});

describe('a bridge without a sudo hop', () => {
  const plain: BridgeDefinition = { ...kimaki, id: 'plain', sudoHop: undefined };

  it('stays direct with a note on install and upgrade alike (#16.8: install refused what upgrade accepted)', () => {
    const root = serverSandbox();
    const host = nodeHost(root, {});
    const { identity } = resolveIdentity(plain, { serviceUser: 'opencode', init: 'none' }, {}, SITE, host);
    const base = { bridge: plain, identity, spec: plain.channel(identity, {}), installed: inspectDispatch(plain, undefined, host), flags: { dispatch: 'sudo' as const }, host };
    for (const action of ['install', 'upgrade'] as const) {
      const notes: string[] = [];
      const plan = planDispatch({ ...base, notes, action });
      expect(notes).toEqual(['plain: has no sudo dispatch mode; it stays direct']);
      expect(plan.files).toEqual([]);
      expect(plan.spec?.command).toBe('/usr/local/bin/kimaki');
    }
  });
});
