/**
 * #17 item 2: whoever controls a file bridgectl reads must not be able to
 * hang or exhaust a run. A FIFO, a link to /dev/zero or a directory at each
 * path a plan or doctor reads: every command ends (the child is killed after
 * its jest timeout would have passed, and then fails the test), exits
 * non-zero naming the server path (doctor: a FAIL check), and changes no
 * file. The built CLI runs as a real process, so a blocking read cannot
 * freeze the test runner itself.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, runMain } from '../helpers/cli.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { at, CHANNELS, isRoot, SITE, SVC_GID, SVC_UID } from '../helpers/sandbox.js';
import { entries } from '../helpers/tree.js';

const TOKEN = '5555555555:AAsecret-token_never_printed';
const TRANSPORT = `${SITE}/wp-content/mu-plugins/wp-coding-agents-cli-transport.php`;
const DOTENV = '/home/opencode/.config/opencode-telegram-bot/.env';

/** Every path a plan reads that a run must survive finding something odd at. */
const PATHS: [string, string][] = [
  ['channels', CHANNELS],
  ['transport', TRANSPORT],
  ['unit', '/etc/systemd/system/kimaki.service'],
  ['token', '/etc/bridgectl/telegram.curl'],
  ['sudoers', '/etc/sudoers.d/bridgectl-kimaki'],
  ['target', '/usr/local/lib/bridgectl/kimaki-dispatch-target'],
  ['wrapper', '/usr/local/bin/bridgectl-kimaki-dispatch'],
  ['service user .env', DOTENV],
];

const KINDS = ['a FIFO', 'a link to /dev/zero', 'a directory'] as const;
type Kind = (typeof KINDS)[number];

const COMMANDS: Record<string, string[]> = {
  upgrade: ['upgrade', '--site', SITE, '--no-reload'],
  check: ['check', '--site', SITE],
  uninstall: ['uninstall', '--bridge', 'kimaki', '--bridge', 'telegram', '--site', SITE, '--no-reload'],
  '--dry-run': ['upgrade', '--site', SITE, '--dry-run'],
  doctor: ['doctor', '--site', SITE],
  status: ['status', '--site', SITE],
};

/** The longest a command may take here; far above its normal time (well under a second), far below "hangs". */
const LIMIT_MS = 15_000;

let installed: string;
let work: string;
/** doctor's exit code on the installed sandbox as it is (the case for paths doctor does not read). */
let doctorOnInstalled: number | null;

beforeAll(async () => {
  installed = bridgeSandbox();
  // The sandbox helper removes its roots after each test; this one is kept for the file.
  const keep = mkdtempSync(path.join(tmpdir(), 'bridgectl-reads-'));
  copyTree(installed, keep);
  installed = keep;
  const base = ['--site', SITE, '--service-user', 'opencode', '--root', installed, '--no-reload'];
  for (const argv of [
    ['install', '--bridge', 'kimaki', '--dispatch', 'sudo', '--web-user', 'www-data', ...base],
    ['install', '--bridge', 'telegram', ...base],
  ]) {
    const r = await runMain(argv, { TELEGRAM_BOT_TOKEN: TOKEN });
    expect({ argv, code: r.code, stderr: r.stderr.replace(/^note: .*\n/gm, '') }).toEqual({ argv, code: 0, stderr: '' });
  }
  // The operator's own .env for the bot (bridgectl adopts its token from there; it never writes it).
  writeFileSync(at(installed, DOTENV), `TELEGRAM_BOT_TOKEN=${TOKEN}\n`, { mode: 0o600 });
  if (isRoot) chownSync(at(installed, DOTENV), SVC_UID, SVC_GID);
  doctorOnInstalled = run([...COMMANDS.doctor as string[], '--root', installed]).code;
  for (const [, p] of PATHS) expect(lstatSync(at(installed, p)).isFile()).toBe(true);
});

afterAll(() => rmSync(installed, { recursive: true, force: true }));
afterEach(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** cp -a: owners, modes and links as they are (cpSync drops owners). */
function copyTree(from: string, to: string): void {
  expect(spawnSync('cp', ['-a', `${from}/.`, to]).status).toBe(0);
}

function plant(root: string, serverPath: string, kind: Kind): void {
  const file = at(root, serverPath);
  const st = lstatSync(file);
  unlinkSync(file);
  if (kind === 'a FIFO') {
    expect(spawnSync('mkfifo', ['-m', '0644', file]).status).toBe(0);
  } else if (kind === 'a link to /dev/zero') {
    symlinkSync('/dev/zero', file);
  } else {
    mkdirSync(file);
    writeFileSync(path.join(file, 'inside'), 'x');
  }
  if (isRoot && kind !== 'a link to /dev/zero') chownSync(file, st.uid, st.gid);
}


function run(argv: string[]): { code: number | null; out: string; signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, [BIN, ...argv], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    encoding: 'utf8',
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 1024 * 1024,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, signal: r.signal };
}

/** Paths a command never reads: uninstall leaves the bot's .env alone; doctor looks at neither the token file nor the .env; status at none of the three. */
const UNREAD: Record<string, string[]> = {
  uninstall: [DOTENV],
  doctor: ['/etc/bridgectl/telegram.curl', DOTENV],
  // status reports what is installed from the block, units and hop files: never the transport or a credential.
  status: [TRANSPORT, '/etc/bridgectl/telegram.curl', DOTENV],
};

const CASES = PATHS.flatMap(([what, p]) => KINDS.map((kind) => [what, kind, p] as const));

describe.each(Object.entries(COMMANDS))('%s', (name, argv) => {
  it.each(CASES)('ends, fails naming the path and changes nothing with %s as %s', (_what, kind, serverPath) => {
    work = mkdtempSync(path.join(tmpdir(), 'bridgectl-reads-case-'));
    copyTree(installed, work);
    plant(work, serverPath, kind);
    const before = entries(work);

    const r = run([...argv, '--root', work]);

    expect(r.signal).toBeNull(); // killed at LIMIT_MS: it hung
    if (UNREAD[name]?.includes(serverPath)) {
      // Not a file this command reads: it ends, and leaves what is there alone.
      expect(r.code).toBe(name === 'doctor' ? doctorOnInstalled : 0); // doctor: as on the untouched install
      expect(r.out).not.toContain(serverPath);
      expect(entries(work).get(serverPath.slice(1))).toEqual(before.get(serverPath.slice(1)));
      return;
    }
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/internal error/);
    if (name === 'doctor') {
      // A FAIL check, or the run's one error, naming the path and what is there (doctor's skip lines name --root: that is their point).
      // doctor wraps its lines (100 columns off a terminal): continuation lines are joined back to their check first.
      expect(r.out.replace(/\n +/g, ' ')).toMatch(new RegExp(`^(FAIL .*|bridgectl: )${serverPath.replace(/[.]/g, '\\.')} is (a FIFO|a character device|a directory)`, 'm'));
    } else {
      expect(r.out).toContain(serverPath);
      expect(r.out).not.toContain(work); // the server path, never the sandbox's host path
    }
    expect(entries(work)).toEqual(before);
  }, LIMIT_MS + 10_000);
});
