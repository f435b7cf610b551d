import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { ServiceEnv } from '../../installer/apply/services.js';
import type { RunResult as ProcessResult } from '../../installer/model/process.js';
import { runnerOf } from '../../installer/process/run.js';
import { exited } from '../helpers/runner.js';
import { runBin, runMain, type RunResult } from '../helpers/cli.js';
import { at, CHANNELS, isRoot, serverSandbox, SITE, wordpressSite } from '../helpers/sandbox.js';

const INSTALL = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode'];
const UNIT = '/etc/systemd/system/kimaki.service';
const TRANSPORT = '/var/www/html/wp-content/mu-plugins/wp-coding-agents-cli-transport.php';

/** Every file under the sandbox with its bytes, to prove "nothing was written". */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.set(path.relative(root, p), readFileSync(p, 'latin1'));
    }
  };
  walk(root);
  return out;
}

describe('install', () => {
  it('writes the channels file and the unit, pinned to the service user', async () => {
    const root = serverSandbox();
    const r = await runMain([...INSTALL, '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`create    ${CHANNELS}`);
    const text = readFileSync(at(root, CHANNELS), 'utf8');
    expect(text).toContain("'env'     => [ 'HOME' => '/home/opencode', 'KIMAKI_DATA_DIR' => '/home/opencode/.kimaki' ],");
    const unit = readFileSync(at(root, UNIT), 'utf8');
    expect(unit).toContain('Environment=HOME=/home/opencode\n');
    expect(unit).toContain('Environment=KIMAKI_DATA_DIR=/home/opencode/.kimaki\n');
    expect(unit).toContain('User=opencode\n');
  });

  it('pins /root for --run-as-root, and the env names of the bash installer work too', async () => {
    const root = serverSandbox();
    expect((await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--root', root])).code).toBe(0);
    expect(readFileSync(at(root, CHANNELS), 'utf8')).toContain("[ 'HOME' => '/root', 'KIMAKI_DATA_DIR' => '/root/.kimaki' ]");

    const root2 = serverSandbox();
    const r = await runMain(['install', '--bridge', 'kimaki', '--root', root2], { SITE_PATH: SITE, SERVICE_USER: 'opencode', KIMAKI_DATA_DIR: '/home/opencode/kd' });
    expect(r.code).toBe(0);
    expect(readFileSync(at(root2, CHANNELS), 'utf8')).toContain("'KIMAKI_DATA_DIR' => '/home/opencode/kd'");
  });

  it('creates a missing data dir 0700 and leaves an existing one alone', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    expect(statSync(at(root, '/home/opencode/.kimaki')).mode & 0o7777).toBe(0o700);
    chmodSync(at(root, '/home/opencode/.kimaki'), 0o750);
    await runMain([...INSTALL, '--root', root]);
    expect(statSync(at(root, '/home/opencode/.kimaki')).mode & 0o7777).toBe(0o750);
  });

  it('refuses with a clear error and writes nothing when no identity is given', async () => {
    const root = serverSandbox();
    const before = snapshot(root);
    const r = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no service identity for kimaki/);
    expect(r.stderr).toMatch(/--service-user NAME, or --run-as-root/);
    expect(snapshot(root)).toEqual(before);
  });

  it('refuses an unwritable home, naming user, path, owner and mode (the seed: www-data and /var/www)', async () => {
    const root = serverSandbox({ 'var/www/.keep': '' });
    chmodSync(at(root, '/var/www'), 0o755);
    const before = snapshot(root);
    const r = await runMain([...INSTALL.slice(0, -1), 'www-data', '--root', root]);
    expect(r.code).toBe(1);
    const owner = isRoot ? 'root:root' : '';
    expect(r.stderr).toMatch(new RegExp(`home /var/www of service user 'www-data' is not writable by it \\(owner ${owner}.*mode 0755\\)`));
    expect(r.stderr).toMatch(/--service-user/);
    expect(snapshot(root)).toEqual(before);
  });

  it('refuses a service user missing from passwd, and a missing binary', async () => {
    const root = serverSandbox();
    expect((await runMain([...INSTALL.slice(0, -1), 'nobody-here', '--root', root])).stderr).toMatch(/service user 'nobody-here' does not exist/);
    const bare = serverSandbox();
    const { rmSync } = await import('node:fs');
    rmSync(at(bare, '/usr/local/bin/kimaki'));
    const r = await runMain([...INSTALL, '--root', bare]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no executable 'kimaki' found in \/usr\/local\/bin\/kimaki, \/usr\/bin\/kimaki, \/home\/opencode\/.npm-global\/bin\/kimaki/);
    expect(r.stderr).toMatch(/pass --binary/);
  });

  it('rejects control characters in a value, naming it, and writes nothing', async () => {
    const root = serverSandbox();
    const before = snapshot(root);
    const r = await runMain([...INSTALL, '--root', root, '--data-dir', '/home/opencode/a\nb']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/control character U\+000A/);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('upgrade', () => {
  it('is a no-op the second time: same bytes, same mtime', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    const files = [CHANNELS, TRANSPORT, UNIT].map((f) => at(root, f));
    const before = files.map((f) => [readFileSync(f, 'latin1'), statSync(f).mtimeMs]);
    await new Promise((r) => setTimeout(r, 20));
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    // The summary line closes it (#19 item 7).
    expect(r.stdout).toBe(`unchanged ${CHANNELS}\nunchanged ${TRANSPORT}\nunchanged ${UNIT}\n0 changed, 3 unchanged\n`);
    expect(files.map((f) => [readFileSync(f, 'latin1'), statSync(f).mtimeMs])).toEqual(before);
  });

  it('--service-user NEW creates the new user\'s data dir 0700, owned by it, as install does (#19 item 4)', async () => {
    const root = serverSandbox();
    mkdirSync(at(root, '/home/ghost'), { mode: 0o750 });
    if (isRoot) chownSync(at(root, '/home/ghost'), 1500, 1500);
    await runMain([...INSTALL, '--root', root]);
    const r = await runMain(['upgrade', '--site', SITE, '--service-user', 'ghost', '--root', root]);
    expect(r.code).toBe(0);
    const made = statSync(at(root, '/home/ghost/.kimaki'));
    expect(made.mode & 0o7777).toBe(0o700);
    if (isRoot) expect([made.uid, made.gid]).toEqual([1500, 1500]);
    expect(readFileSync(at(root, CHANNELS), 'utf8')).toContain("'KIMAKI_DATA_DIR' => '/home/ghost/.kimaki'");
  });

  it('a flagless upgrade does not bring back a data dir the operator removed (it reproduces what is installed)', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    rmSync(at(root, '/home/opencode/.kimaki'), { recursive: true });
    expect((await runMain(['upgrade', '--site', SITE, '--root', root])).code).toBe(0);
    expect(existsSync(at(root, '/home/opencode/.kimaki'))).toBe(false);
  });

  it('reproduces the installed identity with no flags (even when the environment says otherwise)', async () => {
    const root = serverSandbox();
    await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--root', root, '--data-dir', '/root/custom']);
    const before = readFileSync(at(root, CHANNELS), 'utf8');
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    expect(readFileSync(at(root, CHANNELS), 'utf8')).toBe(before);
  });

  it('restores a hand-edited block and keeps text outside blocks', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root, '--init', 'none']);
    const file = at(root, CHANNELS);
    const pristine = readFileSync(file, 'utf8');
    const edited = pristine
      .replace("'timeout' => 600", "'timeout' => 5")
      .replace("'detach'  => true,", "'detach'  => true,\n        'cwd' => '/tmp',")
      .replace("defined( 'ABSPATH' ) || exit;", "defined( 'ABSPATH' ) || exit;\n// operator note: keep me\n");
    writeFileSync(file, edited);
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`update    ${CHANNELS}`);
    expect(readFileSync(file, 'utf8')).toBe(pristine.replace("defined( 'ABSPATH' ) || exit;", "defined( 'ABSPATH' ) || exit;\n// operator note: keep me\n"));
  });

  it('adds the missing HOME pin to a pre-seed four-key block, adopting the unit', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    const file = at(root, CHANNELS);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n {8}'env' .*\n/, '\n'));
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/unit and channel block disagree on HOME \(unit \/home\/opencode, block not pinned\)/);
    expect(readFileSync(file, 'utf8')).toContain("'env'     => [ 'HOME' => '/home/opencode'");
  });

  it('keeps every ExecStartPre= line of the installed unit, in order', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    const hooks = 'ExecStartPre=/usr/local/bin/first-hook\nExecStartPre=-/usr/local/bin/second-hook\n';
    writeFileSync(at(root, UNIT), readFileSync(at(root, UNIT), 'utf8').replace(/^ExecStart=/m, `${hooks}ExecStart=`));
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.stdout).toMatch(/^unchanged +\/etc\/systemd\/system\/kimaki.service$/m);
    expect(readFileSync(at(root, UNIT), 'utf8')).toContain(`${hooks}ExecStart=`);
  });

  it('says so when a second site takes over a bridge whose service served another site', async () => {
    const root = serverSandbox({ 'var/www/other/wp-content/.keep': '' });
    wordpressSite(root, '/var/www/other');
    await runMain([...INSTALL, '--root', root]);
    const r = await runMain(['install', '--bridge', 'kimaki', '--site', '/var/www/other', '--service-user', 'opencode', '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`note: kimaki: ${UNIT} served the site ${SITE}; it now serves /var/www/other`);
    expect(readFileSync(at(root, UNIT), 'utf8')).toContain('WorkingDirectory=/var/www/other\n');
  });

  it('says what to do when nothing is installed', async () => {
    const root = serverSandbox();
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing to upgrade.*\n.*bridgectl install --bridge/);
  });

  it('refuses a damaged file, naming file and line, and leaves it as it was', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    const file = at(root, CHANNELS);
    const damaged = readFileSync(file, 'utf8').replace('    // END bridge:kimaki\n', '');
    writeFileSync(file, damaged);
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${CHANNELS}:21: '// BEGIN bridge:kimaki' has no matching END`));
    expect(readFileSync(file, 'utf8')).toBe(damaged);
  });
});

describe('uninstall', () => {
  it('removes exactly the kimaki block and unit', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root]);
    const r = await runMain(['uninstall', '--bridge', 'kimaki', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    const text = readFileSync(at(root, CHANNELS), 'utf8');
    expect(text).not.toContain('kimaki');
    expect(text).toContain('    // BEGIN bridges\n    // END bridges\n');
    expect(existsSync(at(root, UNIT))).toBe(false);
    expect(existsSync(at(root, '/home/opencode/.kimaki'))).toBe(true); // data is the operator's
  });
});

describe('systemd on the live host (the sandbox stands in for it; systemctl is a fake)', () => {
  /** Runs main() with a fake systemctl that records each call and whether the unit file existed at that moment. */
  function live(root: string, outcomes: Record<string, ProcessResult> = {}) {
    const calls: { command: string; unitOnDisk: boolean }[] = [];
    const services: ServiceEnv = {
      liveRoot: root,
      systemdRunning: () => true,
      runner: runnerOf((file, args) => {
        calls.push({ command: [file, ...args].join(' '), unitOnDisk: existsSync(at(root, UNIT)) });
        return outcomes[args[0] ?? ''] ?? exited(0);
      }),
    };
    const run = (argv: string[]): Promise<RunResult> => runMain([...argv, '--root', root], {}, services);
    return { calls, run };
  }

  it('install enables the unit without starting it, and says how to start it', async () => {
    const root = serverSandbox();
    const { calls, run } = live(root);
    const r = await run(INSTALL);
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.command)).toEqual(['systemctl daemon-reload', 'systemctl enable kimaki.service']);
    expect(r.stderr).toContain('note: kimaki.service enabled, not started: onboard the bridge first, then systemctl start kimaki.service\n');
  });

  it('upgrade try-restarts a unit whose content changed, and nothing when nothing changed', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root, '--no-reload']);
    writeFileSync(at(root, UNIT), readFileSync(at(root, UNIT), 'utf8').replace('RestartSec=10', 'RestartSec=99'));
    const { calls, run } = live(root);
    expect((await run(['upgrade', '--site', SITE])).code).toBe(0);
    expect(calls.map((c) => c.command)).toEqual(['systemctl daemon-reload', 'systemctl try-restart kimaki.service']);
    calls.length = 0;
    expect((await run(['upgrade', '--site', SITE])).code).toBe(0);
    expect(calls).toEqual([]);
  });

  it('uninstall stops and disables the unit while its file is still there, then reloads', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root, '--no-reload']);
    const { calls, run } = live(root);
    const r = await run(['uninstall', '--bridge', 'kimaki', '--site', SITE]);
    expect(r.code).toBe(0);
    expect(calls).toEqual([
      { command: 'systemctl disable --now kimaki.service', unitOnDisk: true },
      { command: 'systemctl daemon-reload', unitOnDisk: false },
    ]);
  });

  it('a failing disable --now stops the uninstall before anything is written', async () => {
    const root = serverSandbox();
    await runMain([...INSTALL, '--root', root, '--no-reload']);
    const before = snapshot(root);
    const { calls, run } = live(root, { disable: exited(1) });
    const r = await run(['uninstall', '--bridge', 'kimaki', '--site', SITE, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bridgectl: `systemctl disable --now kimaki.service` failed: exit status 1; nothing was written\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 1, error: { message: expect.stringContaining('nothing was written') } });
    expect(calls.map((c) => c.command)).toEqual(['systemctl disable --now kimaki.service']);
    expect(snapshot(root)).toEqual(before);
  });

  it('--no-reload runs no systemctl at all', async () => {
    const root = serverSandbox();
    const { calls, run } = live(root);
    await run([...INSTALL, '--no-reload']);
    await run(['uninstall', '--bridge', 'kimaki', '--site', SITE, '--no-reload']);
    expect(calls).toEqual([]);
  });
});

describe('--dry-run', () => {
  it.each([
    ['install', INSTALL],
    ['upgrade', ['upgrade', '--site', SITE, '--service-user', 'root']],
    ['uninstall', ['uninstall', '--bridge', 'kimaki', '--site', SITE]],
  ])('%s prints a diff and writes nothing', async (_name, argv) => {
    const root = serverSandbox();
    if (argv[0] !== 'install') await runMain([...INSTALL, '--root', root]);
    const before = snapshot(root);
    const r = await runMain([...argv, '--root', root, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(---|\+\+\+) /m);
    expect(r.stdout).toContain('dry run: nothing was written');
    expect(snapshot(root)).toEqual(before);
  });
});

describe('the built binary', () => {
  it('writes 0644 files under umask 077, and heals a legacy 0600 file', () => {
    const root = serverSandbox();
    const r = runBin([...INSTALL, '--root', root], { umask: '077' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(at(root, CHANNELS)).mode & 0o7777).toBe(0o644);
    expect(statSync(at(root, UNIT)).mode & 0o7777).toBe(0o644);
    chmodSync(at(root, CHANNELS), 0o600);
    const healed = runBin(['upgrade', '--site', SITE, '--root', root], { umask: '077' });
    expect(healed.stdout).toContain(`update    ${CHANNELS}`);
    expect(statSync(at(root, CHANNELS)).mode & 0o7777).toBe(0o644);
  });

  it('answers --help and --version, and exits 1 on a usage error', () => {
    expect(runBin(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('bridgectl <command> [options]') });
    expect(runBin(['--version']).stdout).toBe(`${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`);
    const bad = runBin(['install', '--bridge', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid values:[\s\S]*nope/);
  });

  it('prints one JSON document with --json', () => {
    const root = serverSandbox();
    const r = runBin([...INSTALL, '--root', root, '--json']);
    const doc = JSON.parse(r.stdout) as { version: number; files: { path: string; status: string }[] };
    expect(doc.version).toBe(1);
    expect(doc.files.map((f) => [f.path, f.status])).toEqual([
      [CHANNELS, 'create'],
      [TRANSPORT, 'create'],
      [UNIT, 'create'],
    ]);
  });
});
