/**
 * #16 item 4: PHP-FPM sees what bridgectl wrote. A sandbox root stands in
 * for the live host (ServiceEnv.liveRoot); the commands go to a fake that
 * records them and what was on disk at that moment.
 */
import { existsSync } from 'node:fs';
import { main } from '../../installer/cli/cli.js';
import { nodeHost } from '../../installer/facts/host.js';
import { reloadPhpFpm } from '../../installer/apply/php-fpm.js';
import { fpmServices, pidFileOf } from '../../installer/facts/php-fpm.js';
import type { ServiceEnv } from '../../installer/apply/services.js';
import type { RunResult as ProcessResult } from '../../installer/model/process.js';
import { runnerOf } from '../../installer/process/run.js';
import { exited } from '../helpers/runner.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { runMain, type RunResult } from '../helpers/cli.js';
import { at, isRoot, serverSandbox, SITE } from '../helpers/sandbox.js';

const rootIt = isRoot ? it : it.skip;
const HOP = hopPaths('kimaki');
const POOLS = {
  'etc/php/8.2/fpm/pool.d/www.conf': '[www]\nuser = www-data\n',
  'etc/php/8.2/fpm/php-fpm.conf': '[global]\npid = /run/php/php8.2-fpm.pid\n',
  'run/php/php8.2-fpm.pid': '4242\n',
  'etc/php/7.4/fpm/pool.d/legacy.conf': '[legacy]\nuser = www-data\n',
  'etc/php/7.4/fpm/php-fpm.conf': '[global]\n; pid = /nowhere\npid = run/php/php7.4-fpm.pid\n[www]\npid = /not/global\n',
  'var/run/php/php7.4-fpm.pid': '77\n',
};
const INSTALL = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--init', 'none'];

/** The machine's processes, as the pid files above name them: two php-fpm masters run by root. */
const PROCESSES: Record<number, { comm: string; uid: number }> = { 4242: { comm: 'php-fpm8.2', uid: 0 }, 77: { comm: 'php-fpm7.4', uid: 0 } };

function live(root: string, systemd: boolean, outcomes: Record<string, ProcessResult> = {}, processes = PROCESSES) {
  const calls: { command: string; wrapperOnDisk: boolean }[] = [];
  const services: ServiceEnv = {
    liveRoot: root,
    systemdRunning: () => systemd,
    processOf: (pid) => processes[pid],
    runner: runnerOf((file, args) => {
      const command = [file, ...args].join(' ');
      calls.push({ command, wrapperOnDisk: existsSync(at(root, HOP.wrapper)) });
      return outcomes[command] ?? exited(0);
    }),
  };
  const run = (argv: string[]): Promise<RunResult> => runMain([...argv, '--root', root], {}, services);
  return { calls, run };
}

describe('finding the PHP-FPM services from the pools', () => {
  it('one per PHP version with a pool, its pid file from php-fpm.conf [global] (relative: under /var)', () => {
    const host = nodeHost(serverSandbox(POOLS), {});
    expect(fpmServices(host)).toEqual([
      { version: '8.2', unit: 'php8.2-fpm', pidFile: '/run/php/php8.2-fpm.pid' },
      { version: '7.4', unit: 'php7.4-fpm', pidFile: '/var/run/php/php7.4-fpm.pid' },
    ]);
    expect(pidFileOf('[global]\npid = "/run/x.pid" ; comment\n')).toBe('/run/x.pid');
    expect(pidFileOf('[www]\npid = /run/x.pid\n')).toBeUndefined();
  });

  it('never runs anything under a sandbox --root that is not the live host', async () => {
    const root = serverSandbox(POOLS);
    const calls: string[] = [];
    const result = await reloadPhpFpm(nodeHost(root, {}), root, { reload: true, needed: true }, { runner: runnerOf((f, a) => (calls.push([f, ...a].join(' ')), exited(0))) });
    expect(result).toEqual({ reloaded: [], notes: [], settled: true });
    expect(calls).toEqual([]);
  });
});

describe('install / upgrade / channel set on the live host reload PHP-FPM after a PHP file changed', () => {
  it('systemd running: systemctl try-reload-or-restart php<ver>-fpm for each, and says so; nothing when no PHP file changed', async () => {
    const root = serverSandbox(POOLS);
    const { calls, run } = live(root, true);
    const r = await run(INSTALL);
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.command)).toEqual(['systemctl try-reload-or-restart php8.2-fpm', 'systemctl try-reload-or-restart php7.4-fpm']);
    expect(r.stderr).toContain('note: reloaded PHP-FPM, so OPcache drops the old PHP files: php8.2-fpm (systemctl try-reload-or-restart php8.2-fpm), php7.4-fpm (systemctl try-reload-or-restart php7.4-fpm)\n');
    calls.length = 0;
    expect((await run(['upgrade', '--site', SITE])).code).toBe(0);
    expect(calls).toEqual([]);
    expect((await run(['channel', 'set', 'notify', '--site', SITE, '--command', '/usr/local/bin/kimaki', '--arg', '{message}'])).code).toBe(0);
    expect(calls.map((c) => c.command)).toEqual(['systemctl try-reload-or-restart php8.2-fpm', 'systemctl try-reload-or-restart php7.4-fpm']);
  });

  it('no systemd as PID 1: SIGUSR2 to the master pid from each pool version\'s pid file', async () => {
    const root = serverSandbox(POOLS);
    const { calls, run } = live(root, false);
    const r = await run(INSTALL);
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.command)).toEqual(['kill -USR2 4242', 'kill -USR2 77']);
  });

  it('--no-reload runs nothing and prints the exact commands to run', async () => {
    const root = serverSandbox(POOLS);
    const { calls, run } = live(root, false);
    const r = await run([...INSTALL, '--no-reload', '--json']);
    expect(r.code).toBe(0);
    expect(calls).toEqual([]);
    const note = 'PHP-FPM not reloaded (--no-reload): OPcache may serve the old file until you run: kill -USR2 "$(cat /run/php/php8.2-fpm.pid)" && kill -USR2 "$(cat /var/run/php/php7.4-fpm.pid)"';
    expect(r.stderr).toContain(`note: ${note}\n`);
    expect((JSON.parse(r.stdout) as { notes: string[] }).notes).toContain(note);
  });

  it('a failed reload is the run\'s error: exit 1, the files stay written, the commands left to run are named', async () => {
    const root = serverSandbox(POOLS);
    const { run } = live(root, true, { 'systemctl try-reload-or-restart php8.2-fpm': exited(1) });
    const r = await run([...INSTALL, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { exitCode: number; dryRun: boolean; error: { message: string; fix: string } };
    expect(doc).toMatchObject({ exitCode: 1, dryRun: false });
    expect(doc.error.message).toBe('files were written; reloading PHP-FPM failed: `systemctl try-reload-or-restart php8.2-fpm` failed: exit status 1; OPcache may serve the old PHP files until it reloads');
    expect(doc.error.fix).toBe('run by hand: systemctl try-reload-or-restart php8.2-fpm && systemctl try-reload-or-restart php7.4-fpm (running bridgectl again reloads and finishes)');
    expect(existsSync(at(root, `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`))).toBe(true);
  });

  it('a master that is not running (no pid in its pid file) caches nothing: a note, not a failure; a garbled pid file is a failure', async () => {
    const root = serverSandbox({ ...POOLS, 'run/php/php8.2-fpm.pid': '' });
    const { calls, run } = live(root, false);
    const r = await run(INSTALL);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('note: php8.2-fpm is not running (no pid in /run/php/php8.2-fpm.pid): nothing to reload\n');
    expect(calls.map((c) => c.command)).toEqual(['kill -USR2 77']);
    const garbled = serverSandbox({ ...POOLS, 'run/php/php8.2-fpm.pid': 'x\n' });
    const g = await live(garbled, false).run(INSTALL);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('reloading PHP-FPM failed: /run/php/php8.2-fpm.pid does not hold a pid');
  });

  it('a pid file naming a pid that is gone, or a process that is not a root php-fpm, is never signalled', async () => {
    const gone = await live(serverSandbox(POOLS), false, {}, { 77: PROCESSES[77] as { comm: string; uid: number } }).run(INSTALL);
    expect(gone.code).toBe(0);
    expect(gone.stderr).toContain('note: php8.2-fpm is not running (/run/php/php8.2-fpm.pid names pid 4242, which is gone): nothing to reload\n');
    for (const other of [{ comm: 'postgres', uid: 0 }, { comm: 'php-fpm8.2', uid: 33 }]) {
      const { calls, run } = live(serverSandbox(POOLS), false, {}, { ...PROCESSES, 4242: other });
      const r = await run(INSTALL);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('/run/php/php8.2-fpm.pid names pid 4242, which is not a php-fpm master run by root');
      expect(calls.map((c) => c.command)).not.toContain('kill -USR2 4242');
    }
  });

  it('no PHP-FPM pool at all: nothing to reload, nothing said', async () => {
    const root = serverSandbox();
    const { calls, run } = live(root, false);
    const r = await run(INSTALL);
    expect(r.code).toBe(0);
    expect(calls).toEqual([]);
    expect(r.stderr).not.toMatch(/PHP-FPM/);
  });
});

describe('sudo → direct: the hop files go only once no served config can point at them', () => {
  rootIt('removed after a successful reload, in that order', async () => {
    const root = serverSandbox(POOLS);
    const { calls, run } = live(root, true);
    expect((await run([...INSTALL, '--dispatch', 'sudo'])).code).toBe(0);
    calls.length = 0;
    const r = await run(['upgrade', '--site', SITE, '--dispatch', 'direct']);
    expect(r.code).toBe(0);
    // The reload ran while the wrapper was still there; after it, the files are gone.
    expect(calls).toEqual([
      { command: 'systemctl try-reload-or-restart php8.2-fpm', wrapperOnDisk: true },
      { command: 'systemctl try-reload-or-restart php7.4-fpm', wrapperOnDisk: true },
    ]);
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(false);
  });

  rootIt('left in place when PHP-FPM was not reloaded (--no-reload, or a failure), and the next run removes them', async () => {
    const root = serverSandbox(POOLS);
    const { calls, run } = live(root, true);
    expect((await run([...INSTALL, '--dispatch', 'sudo'])).code).toBe(0);
    const r = await run(['upgrade', '--site', SITE, '--dispatch', 'direct', '--no-reload', '--json']);
    expect(r.code).toBe(0);
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(true);
    const doc = JSON.parse(r.stdout) as { notes: string[]; files: { path: string; status: string }[] };
    expect(doc.notes).toContain(
      `left ${HOP.sudoers}, ${HOP.target}, ${HOP.wrapper} in place: PHP-FPM was not reloaded, so a worker may still run a cached channels file that points at the wrapper; run the same command again, with --reload, to reload PHP-FPM and remove them`,
    );
    expect(doc.files.filter((f) => Object.values(HOP).includes(f.path)).map((f) => f.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    calls.length = 0;
    const again = await run(['upgrade', '--site', SITE, '--dispatch', 'direct']);
    expect(again.code).toBe(0);
    expect(calls.map((c) => [c.command, c.wrapperOnDisk])).toEqual([
      ['systemctl try-reload-or-restart php8.2-fpm', true],
      ['systemctl try-reload-or-restart php7.4-fpm', true],
    ]);
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(false);
  });

  rootIt('under a sandbox --root (not the live host) they are removed at once, and nothing is reloaded', async () => {
    const root = serverSandbox(POOLS);
    const io = { stdout: () => undefined, stderr: () => undefined, env: {} };
    expect(await main([...INSTALL, '--dispatch', 'sudo', '--root', root], io)).toBe(0);
    expect(await main(['upgrade', '--site', SITE, '--dispatch', 'direct', '--root', root], io)).toBe(0);
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(false);
  });
});
