/**
 * `bridgectl status` (#19): per site, the installed bridges, each one's
 * identity, dispatch mode and units' state. systemctl is a fake: the live
 * host is a sandbox named as it through ServiceEnv.liveRoot.
 */
import type { ServiceEnv } from '../../installer/apply/services.js';
import type { RunResult as ProcessResult } from '../../installer/model/process.js';
import { runnerOf } from '../../installer/process/run.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { schemaErrors } from '../helpers/json-shape.js';
import { exited } from '../helpers/runner.js';
import { serverSandbox, SITE } from '../helpers/sandbox.js';
import { snapshot } from '../helpers/tree.js';

interface Doc {
  command: string;
  exitCode: number;
  site: string;
  bridges: { id: string; serviceUser: string | null; home: string | null; dataDir: string | null; binary: string | null; dispatch: string; init: string; units: { unit: string; file: string; enabled: string | null; active: string | null; unknown: string | null }[] }[];
}

async function ok(argv: string[]): Promise<void> {
  const r = await runMain(argv);
  expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 0]);
}

const install = (root: string, ...extra: string[]) => ok(['install', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload', ...extra]);

async function status(root: string, extra: string[] = [], services?: ServiceEnv): Promise<{ code: number; stdout: string; stderr: string; doc: Doc }> {
  const r = await runMain(['status', '--site', SITE, '--root', root, ...extra], {}, services);
  const j = await runMain(['status', '--site', SITE, '--root', root, '--json', ...extra], {}, services);
  const doc = JSON.parse(j.stdout) as Doc;
  expect(schemaErrors(doc)).toEqual([]);
  expect(j.code).toBe(r.code);
  return { ...r, doc };
}

describe('bridgectl status under a sandbox --root', () => {
  it('lists each installed bridge: user, home, data dir, binary, dispatch, and its units as unknown (sandbox); writes nothing', async () => {
    const root = bridgeSandbox();
    await install(root, '--bridge', 'kimaki', '--bridge', 'cc-connect');
    const before = snapshot(root);
    const r = await status(root);
    expect(snapshot(root)).toEqual(before);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        `${SITE}: 2 bridge(s) installed`,
        'kimaki',
        '  user      opencode',
        '  home      /home/opencode',
        '  data dir  /home/opencode/.kimaki',
        '  binary    /usr/local/bin/kimaki',
        '  dispatch  direct',
        '  unit      kimaki.service: unknown (sandbox)',
        'cc-connect',
        '  user      opencode',
        '  home      /home/opencode',
        '  data dir  /home/opencode/.cc-connect',
        '  binary    /usr/local/bin/cc-connect',
        '  dispatch  direct',
        '  unit      cc-connect.service: unknown (sandbox)',
        '',
      ].join('\n'),
    );
    expect(r.doc.command).toBe('status');
    expect(r.doc.bridges.map((b) => [b.id, b.serviceUser, b.dispatch, b.init])).toEqual([
      ['kimaki', 'opencode', 'direct', 'systemd'],
      ['cc-connect', 'opencode', 'direct', 'systemd'],
    ]);
    expect(r.doc.bridges[0]?.units).toEqual([{ unit: 'kimaki.service', file: '/etc/systemd/system/kimaki.service', enabled: null, active: null, unknown: 'sandbox' }]);
  });

  it('a bridge on the sudo hop with no unit (--init none): dispatch sudo, no units, its user from the hop', async () => {
    const root = bridgeSandbox();
    await install(root, '--bridge', 'kimaki', '--init', 'none', '--dispatch', 'sudo', '--web-user', 'www-data');
    const r = await status(root);
    expect(r.doc.bridges).toEqual([
      { id: 'kimaki', serviceUser: 'opencode', home: '/home/opencode', dataDir: '/home/opencode/.kimaki', binary: '/usr/local/bin/kimaki', dispatch: 'sudo', init: 'none', units: [] },
    ]);
    expect(r.stdout).toContain('  dispatch  sudo\n  units     none (init none)\n');
  });

  it('nothing installed: says so, exit 0, no bridges', async () => {
    const r = await status(serverSandbox());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${SITE}: no bridges installed (bridgectl install --bridge <id> --site ${SITE})\n`);
    expect(r.doc.bridges).toEqual([]);
  });

  it('is not a writing command: no lock is taken, --dry-run is not needed', async () => {
    const { commandWrites } = await import('../../installer/cli/commands/index.js');
    expect(commandWrites(['status'])).toBe(false);
  });
});

describe('bridgectl status on the live host (the sandbox stands in; systemctl is a fake)', () => {
  function live(root: string, answers: Record<string, ProcessResult>, running = true) {
    const calls: string[] = [];
    const services: ServiceEnv = {
      liveRoot: root,
      systemdRunning: () => running,
      runner: runnerOf((file, args) => {
        calls.push([file, ...args].join(' '));
        return answers[args.join(' ')] ?? exited(0);
      }),
    };
    return { calls, services };
  }

  it('asks systemctl is-enabled and is-active for each unit and prints what it says', async () => {
    const root = bridgeSandbox();
    await install(root, '--bridge', 'kimaki');
    const { calls, services } = live(root, {
      'is-enabled kimaki.service': { status: 0, stdout: 'enabled\n', stderr: '' },
      'is-active kimaki.service': { status: 3, stdout: 'inactive\n', stderr: '' },
    });
    const r = await status(root, [], services);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  unit      kimaki.service: enabled, inactive\n');
    expect(r.doc.bridges[0]?.units).toEqual([{ unit: 'kimaki.service', file: '/etc/systemd/system/kimaki.service', enabled: 'enabled', active: 'inactive', unknown: null }]);
    // Text run, then --json run: each asks both, nothing else (no start, no reload).
    expect(calls).toEqual(['systemctl is-enabled kimaki.service', 'systemctl is-active kimaki.service', 'systemctl is-enabled kimaki.service', 'systemctl is-active kimaki.service']);
  });

  it('systemctl that cannot run or says nothing: unknown, with why', async () => {
    const root = bridgeSandbox();
    await install(root, '--bridge', 'kimaki');
    const { services } = live(root, {
      'is-enabled kimaki.service': { status: null, stdout: '', stderr: '', error: 'ENOENT' },
      'is-active kimaki.service': { status: 4, stdout: '', stderr: '' },
    });
    const r = await status(root, [], services);
    expect(r.stdout).toContain('kimaki.service: unknown (systemctl is-enabled: ENOENT), unknown (systemctl is-active: exit status 4)');
  });

  it('systemd not running: nothing is asked, the units are unknown', async () => {
    const root = bridgeSandbox();
    await install(root, '--bridge', 'kimaki');
    const { calls, services } = live(root, {}, false);
    const r = await status(root, [], services);
    expect(calls).toEqual([]);
    expect(r.doc.bridges[0]?.units[0]?.unknown).toBe('systemd is not running');
  });
});
