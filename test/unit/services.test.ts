/**
 * The init system's commands after a write. Never the real systemctl: every
 * test injects the runner (and whether systemd is running), so root '/' here
 * exercises the live-host logic without touching the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { type FileChange } from '../../installer/model/plan.js';
import { fileChange } from '../../installer/plan/changes.js';
import { execToStderr, reloadServices, stopRemovedUnits, type ExecOutcome, type ServiceEnv } from '../../installer/apply/services.js';

const UNIT = '/etc/systemd/system/kimaki.service';
const created = (p: string): FileChange => fileChange(p, null, '[Unit]\n', 0o644);
const updated = (p: string): FileChange => fileChange(p, '[Unit]\nold\n', '[Unit]\n', 0o644, 0o644);
const removed = (p: string): FileChange => fileChange(p, '[Unit]\n', null, 0o644, 0o644);

/** A fake systemctl: records every call, answers from `outcomes` by subcommand (default exit 0). */
function fakeSystemd(outcomes: Record<string, ExecOutcome> = {}, running = true): ServiceEnv & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    systemdRunning: () => running,
    exec: async (file, args) => {
      calls.push([file, ...args].join(' '));
      return outcomes[args[0] ?? ''] ?? { exitCode: 0 };
    },
  };
}

describe('reloadServices', () => {
  it('runs daemon-reload and enables new units on install, without starting them, and says how to start them', async () => {
    const env = fakeSystemd();
    const r = await reloadServices([created(UNIT)], '/', true, env);
    expect(env.calls).toEqual(['systemctl daemon-reload', 'systemctl enable kimaki.service']);
    expect(r).toEqual({ ran: env.calls, hints: ['kimaki.service enabled, not started: onboard the bridge first, then systemctl start kimaki.service'] });
  });

  it('try-restarts units whose content changed (upgrade: new pins take effect), not those whose mode alone changed', async () => {
    const env = fakeSystemd();
    const modeOnly = fileChange('/etc/systemd/system/opencode-serve.service', '[Unit]\n', '[Unit]\n', 0o644, 0o600);
    const r = await reloadServices([updated(UNIT), modeOnly, updated('/etc/systemd/system/opencode-telegram.service')], '/', false, env);
    expect(env.calls).toEqual(['systemctl daemon-reload', 'systemctl try-restart kimaki.service opencode-telegram.service']);
    expect(r.hints).toBeUndefined();
  });

  it('does not enable on upgrade (enable false), and reloads after a removal', async () => {
    const env = fakeSystemd();
    await reloadServices([created(UNIT), removed('/etc/systemd/system/opencode-serve.service')], '/', false, env);
    expect(env.calls).toEqual(['systemctl daemon-reload']);
  });

  it('reports a failing daemon-reload with its exit status, and runs nothing after it', async () => {
    const env = fakeSystemd({ 'daemon-reload': { exitCode: 1 } });
    const r = await reloadServices([created(UNIT)], '/', true, env);
    expect(env.calls).toEqual(['systemctl daemon-reload']);
    expect(r.failed).toEqual({
      command: 'systemctl daemon-reload',
      status: 'exit status 1',
      remaining: ['systemctl daemon-reload', 'systemctl enable kimaki.service'],
    });
  });

  it.each([
    [{ signal: 'SIGTERM' }, 'killed by SIGTERM'],
    [{ error: 'ENOENT' }, 'could not run: ENOENT'],
  ])('names how a command ended: %j', async (outcome, status) => {
    const r = await reloadServices([updated(UNIT)], '/', false, fakeSystemd({ 'daemon-reload': outcome }));
    expect(r.failed?.status).toBe(status);
  });

  it('says why it skipped when systemd is not running, and runs nothing', async () => {
    const env = fakeSystemd({}, false);
    const r = await reloadServices([created(UNIT)], '/', true, env);
    expect(env.calls).toEqual([]);
    expect(r.skipped).toMatch(/systemd is not running/);
  });

  it('never runs anything for a sandbox root, and has nothing to report there', async () => {
    const env = fakeSystemd();
    expect(await reloadServices([created(UNIT)], '/tmp/sandbox', true, env)).toEqual({ ran: [] });
    expect(env.calls).toEqual([]);
  });

  it('a failing try-restart names the command; the files stay written', async () => {
    const r = await reloadServices([updated(UNIT)], '/', false, fakeSystemd({ 'try-restart': { exitCode: 1 } }));
    expect(r.failed).toEqual({ command: 'systemctl try-restart kimaki.service', status: 'exit status 1', remaining: ['systemctl try-restart kimaki.service'] });
  });
});

describe('stopRemovedUnits', () => {
  it('disables and stops every unit the plan removes, in one command', async () => {
    const env = fakeSystemd();
    const r = await stopRemovedUnits([removed(UNIT), updated('/etc/systemd/system/x.service'), removed('/etc/systemd/system/opencode-serve.service')], '/', env);
    expect(env.calls).toEqual(['systemctl disable --now kimaki.service opencode-serve.service']);
    expect(r.failed).toBeUndefined();
  });

  it('reports a failure with its exit status', async () => {
    const r = await stopRemovedUnits([removed(UNIT)], '/', fakeSystemd({ disable: { exitCode: 5 } }));
    expect(r.failed).toMatchObject({ command: 'systemctl disable --now kimaki.service', status: 'exit status 5' });
  });

  it.each([
    ['nothing is removed', [created(UNIT), updated(UNIT)], '/', true],
    ['a sandbox root', [removed(UNIT)], '/tmp/sandbox', true],
    ['systemd not running', [removed(UNIT)], '/', false],
  ])('runs nothing when %s', async (_what, changes, root, running) => {
    const env = fakeSystemd({}, running);
    expect(await stopRemovedUnits(changes, root, env)).toEqual({ ran: [] });
    expect(env.calls).toEqual([]);
  });
});

describe('execToStderr', () => {
  it("sends the command's output to stderr: stdout stays one --json document", async () => {
    // Bundle the module as shipped and run its default exec in a child whose stdout and stderr we can see.
    const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-services-'));
    try {
      // CommonJS, like the shipped bundle.
      const bundle = path.join(dir, 'services.cjs');
      await build({ entryPoints: ['installer/apply/services.ts'], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent' });
      const script = `require(${JSON.stringify(bundle)})
  .execToStderr('sh', ['-c', 'echo from-stdout; echo from-stderr >&2; exit 3'])
  .then((r) => process.stdout.write(JSON.stringify(r)));`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', input: '' });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ exitCode: 3 });
      expect(r.stderr).toBe('from-stdout\nfrom-stderr\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a command that cannot run, and one killed by a signal, without throwing', async () => {
    expect(await execToStderr('/nonexistent/bridgectl-no-such-systemctl', ['daemon-reload'])).toEqual({ error: 'ENOENT' });
    expect(await execToStderr('sh', ['-c', 'kill -KILL $$'])).toEqual({ signal: 'SIGKILL' });
  });
});
