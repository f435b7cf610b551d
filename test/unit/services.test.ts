/**
 * The init system's commands after a write. Never the real systemctl: every
 * test injects the runner (and whether systemd is running), so root '/' here
 * exercises the live-host logic without touching the machine.
 */
import { type FileChange } from '../../installer/model/plan.js';
import { fileChange } from '../../installer/plan/changes.js';
import { reloadServices, stopRemovedUnits, type ServiceEnv } from '../../installer/apply/services.js';
import type { RunResult } from '../../installer/model/process.js';
import { runnerOf } from '../../installer/process/run.js';
import { ended, exited } from '../helpers/runner.js';

const UNIT = '/etc/systemd/system/kimaki.service';
const created = (p: string): FileChange => fileChange(p, null, '[Unit]\n', 0o644);
const updated = (p: string): FileChange => fileChange(p, '[Unit]\nold\n', '[Unit]\n', 0o644, 0o644);
const removed = (p: string): FileChange => fileChange(p, '[Unit]\n', null, 0o644, 0o644);

/** A fake systemctl: records every call, answers from `outcomes` by subcommand (default exit 0). */
function fakeSystemd(outcomes: Record<string, RunResult> = {}, running = true): ServiceEnv & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    systemdRunning: () => running,
    runner: runnerOf((file, args, options) => {
      calls.push([file, ...args].join(' '));
      expect(options).toEqual({ output: 'stderr' }); // never on our stdout
      return outcomes[args[0] ?? ''] ?? exited(0);
    }),
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
    const env = fakeSystemd({ 'daemon-reload': exited(1) });
    const r = await reloadServices([created(UNIT)], '/', true, env);
    expect(env.calls).toEqual(['systemctl daemon-reload']);
    expect(r.failed).toEqual({
      command: 'systemctl daemon-reload',
      status: 'exit status 1',
      remaining: ['systemctl daemon-reload', 'systemctl enable kimaki.service'],
    });
  });

  it.each([
    [ended({ signal: 'SIGTERM' }), 'killed by SIGTERM'],
    [ended({ error: 'ENOENT' }), 'could not run: ENOENT'],
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
    const r = await reloadServices([updated(UNIT)], '/', false, fakeSystemd({ 'try-restart': exited(1) }));
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
    const r = await stopRemovedUnits([removed(UNIT)], '/', fakeSystemd({ disable: exited(5) }));
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
