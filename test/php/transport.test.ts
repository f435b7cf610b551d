/**
 * Runs the PHP smoke suite (test/php/transport-suite.php) with real php and
 * real processes, and lints the transport template.
 *
 * As root every directory is writable, so the unwritable-HOME cases would
 * prove nothing: as root the suite runs as nobody (setpriv, else runuser),
 * from a staged copy that user can read, with a TMPDIR it owns. Without php
 * this fails under CI and skips loudly elsewhere.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { transportFile } from '../../installer/lib/paths.js';
import { BIN, runBin } from '../helpers/cli.js';
import { at, CHANNELS, isRoot, serverSandbox, SITE } from '../helpers/sandbox.js';

const REPO = path.resolve('.');
const PHP = process.env.PHP_BINARY ?? 'php';
const TEMPLATE = path.join(REPO, 'templates/wp-coding-agents-cli-transport.php');
const SUITE_FILES = ['transport-suite.php', 'wp-shim.php', 'fake-cli.php'];
const SUMMARY = /^transport: (\d+) passed, (\d+) failed$/m;

const inCI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI);
const havePhp = spawnSync(PHP, ['-v'], { encoding: 'utf8' }).status === 0;

if (!havePhp && !inCI) {
  console.warn(
    `\n!!! php not found (${PHP}): the PHP transport suite is SKIPPED.\n!!! Install it (apt-get install -y php-cli) — CI fails without it.\n`,
  );
}

const staged: string[] = [];
afterAll(() => {
  while (staged.length) rmSync(staged.pop() as string, { recursive: true, force: true });
});

/** How to run a command as an unprivileged user; [] when we already are one. */
function dropPrivileges(): string[] {
  if (!isRoot) return [];
  const group = spawnSync('getent', ['group', 'nogroup']).status === 0 ? 'nogroup' : 'nobody';
  if (spawnSync('setpriv', ['--version']).status === 0) return ['setpriv', '--reuid=nobody', `--regid=${group}`, '--init-groups'];
  if (spawnSync('runuser', ['--help']).status === 0) return ['runuser', '-u', 'nobody', '--'];
  throw new Error('running as root, but neither setpriv nor runuser is available to drop to nobody');
}

function nobodyUid(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('cannot resolve the nobody user');
  return { uid, gid };
}

/**
 * A world-readable copy of the suite and the template (same layout as the
 * repo, so the suite finds ../../templates), a fake kimaki, and a TMPDIR the
 * suite's user owns. Extra files are copied under installed/.
 */
function stage(extra: Record<string, string> = {}): { dir: string; tmp: string; kimaki: string; installed: Record<string, string> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-php-'));
  staged.push(dir);
  for (const sub of ['test/php', 'templates', 'bin', 'installed', 'tmp']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const f of SUITE_FILES) copyFileSync(path.join(REPO, 'test/php', f), path.join(dir, 'test/php', f));
  copyFileSync(TEMPLATE, path.join(dir, 'templates', path.basename(TEMPLATE)));
  const kimaki = path.join(dir, 'bin/kimaki');
  copyFileSync(path.join(REPO, 'test/php/fake-cli.php'), kimaki);
  const installed: Record<string, string> = {};
  for (const [name, from] of Object.entries(extra)) {
    installed[name] = path.join(dir, 'installed', name);
    copyFileSync(from, installed[name]);
  }
  for (const sub of ['', 'test', 'test/php', 'templates', 'bin', 'installed']) chmodSync(path.join(dir, sub), 0o755);
  for (const f of [...SUITE_FILES.map((f) => `test/php/${f}`), `templates/${path.basename(TEMPLATE)}`, ...Object.keys(extra).map((f) => `installed/${f}`)]) {
    chmodSync(path.join(dir, f), 0o644);
  }
  chmodSync(path.join(dir, 'test/php/fake-cli.php'), 0o755);
  chmodSync(kimaki, 0o755);
  const tmp = path.join(dir, 'tmp');
  chmodSync(tmp, 0o700);
  if (isRoot) {
    const { uid, gid } = nobodyUid();
    chownSync(tmp, uid, gid);
  }
  return { dir, tmp, kimaki, installed };
}

function runSuite(cwd: string, env: Record<string, string>): SpawnSyncReturns<string> {
  const [cmd, ...pre] = [...dropPrivileges(), PHP, 'test/php/transport-suite.php'];
  // The fake CLI's shebang finds php on PATH; keep an explicit PHP_BINARY findable.
  const pathVar = [path.isAbsolute(PHP) ? path.dirname(PHP) : '', process.env.PATH ?? '/usr/bin:/bin'].filter(Boolean).join(':');
  return spawnSync(cmd as string, pre, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: pathVar, HOME: process.env.HOME ?? '/', LANG: 'C.UTF-8', ...env },
  });
}

/** Exit 0, and a closing line with a positive count and 0 failed; else throw with the whole output. */
function expectGreen(r: SpawnSyncReturns<string>): number {
  const m = SUMMARY.exec(r.stdout ?? '');
  const lines = (r.stdout ?? '').trimEnd().split('\n');
  const ok = r.status === 0 && m !== null && Number(m[1]) > 0 && m[2] === '0' && lines[lines.length - 1] === m[0];
  if (!ok) {
    throw new Error(`PHP suite failed (status ${r.status}, signal ${r.signal}, error ${r.error?.message ?? 'none'})\n${r.stdout}\n${r.stderr}`);
  }
  // The suite's own count of assertions, in the test log (jest keeps passing tests quiet).
  process.stdout.write(`PHP ${m?.[0] ?? ''}\n`);
  return Number(m?.[1]);
}

if (!havePhp && inCI) {
  describe('PHP transport', () => {
    it('needs php in CI', () => {
      throw new Error(`php not found (${PHP}) but CI is set: the transport suite must run in CI. Install php-cli.`);
    });
  });
}

(havePhp ? describe : describe.skip)('PHP transport', () => {
  it('the template passes php -l', () => {
    const r = spawnSync(PHP, ['-l', TEMPLATE], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('No syntax errors detected');
    expect(r.status).toBe(0);
  });

  it('passes the smoke suite, unprivileged', () => {
    // Not root: run in place, on the template itself. Root: a copy nobody can read.
    const s = isRoot ? stage() : undefined;
    const r = runSuite(s?.dir ?? REPO, s ? { TMPDIR: s.tmp } : {});
    const passed = expectGreen(r);
    expect(r.stdout).toContain('ok   a 0555 directory is unwritable to this PHP process (not root)');
    expect(passed).toBeGreaterThan(50);
  });

  it('end to end: the installed channels file + transport dispatch to a fake kimaki under an unwritable HOME', () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    const root = serverSandbox();
    const probe = stage();
    // The probe is a host path PHP runs as is, not a path inside the sandbox root: hence --allow-missing-binary.
    const install = runBin(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, '--binary', probe.kimaki, '--allow-missing-binary']);
    expect(install).toMatchObject({ code: 0 });
    const channels = readFileSync(at(root, CHANNELS), 'utf8');
    expect(channels).toContain(`'command' => '${probe.kimaki}'`);
    expect(channels).toContain("'HOME' => '/home/opencode'");

    // bridgectl installed the transport too: the very bytes of the template.
    const transport = at(root, transportFile(SITE));
    expect(readFileSync(transport, 'utf8')).toBe(readFileSync(TEMPLATE, 'utf8'));

    const s = stage({ 'wp-coding-agents-channels.php': at(root, CHANNELS), 'wp-coding-agents-cli-transport.php': transport });
    // The fake kimaki the block names lives in the first stage; keep it.
    const r = runSuite(s.dir, {
      TMPDIR: s.tmp,
      BRIDGECTL_CHANNELS_FILE: s.installed['wp-coding-agents-channels.php'] as string,
      BRIDGECTL_TRANSPORT_FILE: s.installed['wp-coding-agents-cli-transport.php'] as string,
      BRIDGECTL_E2E_COMMAND: probe.kimaki,
    });
    expectGreen(r);
    expect(r.stdout).toContain("ok   the child HOME is the pinned one, not the web user's unwritable one");
  });
});
