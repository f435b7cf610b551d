/**
 * The sudo hop for real: root, Debian's sudo, PHP as the web user running
 * the channels file and CLI transport bridgectl installed, a fake kimaki
 * (and cc-connect) as the service user, without changing the machine.
 *
 * A mount namespace (test/sudo/namespace.sh, held open for the whole file)
 * gets throwaway users in private copies of passwd/group/shadow and private
 * empty /etc/sudoers.d, /usr/local/bin and /usr/local/lib; every step runs
 * inside it through nsenter, and PHP runs as the web user through setpriv.
 * bridgectl installs with --root / into that namespace, exactly as on a
 * server. A dispatch is what WordPress does (test/sudo/wp-dispatch.php): the
 * PHP tests' WordPress shim, the two installed mu-plugins, the dispatch
 * filter and its handler. The bridge channels are detached (the transport
 * returns a pid), so the test waits for the fake CLI's record; a custom
 * synchronous channel pointing at the wrapper brings exit codes back to PHP
 * as WP_Error data. When the file ends the namespace is gone and the scratch
 * dir is removed.
 *
 * Needs root, sudo, visudo, php, unshare/nsenter/setpriv and permission to
 * mount; skipped without them, except under CI, where a missing one fails.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { MAX_MESSAGE_BYTES } from '../../installer/render/sudo-hop.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { VISUDO_PATHS } from '../../installer/lib/sudo-paths.js';
import type { Check } from '../../installer/model/doctor.js';
import { clearCalls, fakeCcConnect, fakeKimaki, HOSTILE_MESSAGES, readCalls, waitForCalls, type Call } from '../helpers/dispatch.js';

const HOP = hopPaths('kimaki');
const CC = hopPaths('cc-connect');
const ID = '123456789012345678';
const PROJECT = 'my-project';
/** A custom channel that runs kimaki's wrapper synchronously, so its exit code reaches PHP. */
const SYNC = 'kimaki-sync';

/** What the handler returned: the transport's result, or a WP_Error. */
interface Dispatched {
  result: { sent: boolean; channel: string; recipient: string; metadata: Record<string, unknown> } | null;
  error: { code: string; message: string; data: Record<string, unknown> } | null;
}
const BIN = path.resolve('dist/bridgectl.cjs');

function prerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const cmd of ['sudo', 'visudo', 'php', 'unshare', 'nsenter', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) missing.push(cmd);
  }
  if (missing.length === 0 && spawnSync('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp']).status !== 0) {
    missing.push('permission to mount in a new mount namespace');
  }
  return missing;
}

const missing = prerequisites();
if (missing.length > 0 && process.env.CI) {
  describe('the sudo hop, live', () => {
    it('has its prerequisites (CI never skips this)', () => {
      throw new Error(`CI: the live sudo tests need ${missing.join(', ')} (.ci/run: apt-get install -y sudo php-cli; run as root)`);
    });
  });
}

/** Free uids (and gids of the same number), and user names that do not exist on the host. */
function throwawayIds(): number[] {
  const used = new Set<number>();
  for (const db of ['passwd', 'group']) {
    for (const line of spawnSync('getent', [db], { encoding: 'utf8' }).stdout.split('\n')) used.add(Number(line.split(':')[2]));
  }
  for (const name of ['bctlweb', 'bctlsvc', 'bctlother']) {
    if (spawnSync('getent', ['passwd', name]).status === 0) throw new Error(`user ${name} exists on this machine; the live test will not reuse it`);
  }
  const ids: number[] = [];
  for (let id = 64200; ids.length < 3 && id < 65000; id++) if (!used.has(id)) ids.push(id);
  return ids;
}

(missing.length === 0 ? describe : describe.skip)('the sudo hop, live', () => {
  let T = '';
  let ns: ChildProcess | undefined;
  let WEB = 0;
  let SVC = 0;
  let OTHER = 0;
  let CHANNELS = '';
  let DATA = '';
  let RECORDS = '';
  let CC_DATA = '';
  let daemon: Server | undefined;
  let messages = 0;

  /** Run inside the namespace. */
  const inNs = (argv: string[], options: { input?: string; cwd?: string } = {}): SpawnSyncReturns<string> =>
    spawnSync('nsenter', ['-t', String(ns?.pid), '-m', '--', ...argv], { encoding: 'utf8', input: options.input ?? '', cwd: options.cwd ?? process.cwd(), timeout: 30_000 });
  /** Run inside the namespace as a user, with a clean environment (as PHP-FPM would have). */
  const as = (uid: number, argv: string[], options: { input?: string; extra?: string[] } = {}): SpawnSyncReturns<string> =>
    inNs(['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--init-groups', '--reset-env', ...(options.extra ?? []), '--', ...argv], { input: options.input ?? '', cwd: `${T}/www` });
  const bridgectl = (...args: string[]): SpawnSyncReturns<string> => inNs([process.execPath, BIN, ...args, '--root', '/', '--no-reload']);
  const upgrade = (...args: string[]): SpawnSyncReturns<string> => bridgectl('upgrade', '--site', `${T}/site`, ...args);
  /** bridgectl doctor on the live host, as root, checking as the web user. */
  const doctor = (): { code: number | null; checks: Check[] } => {
    const r = inNs([process.execPath, BIN, 'doctor', '--site', `${T}/site`, '--web-user', 'bctlweb', '--root', '/', '--json']);
    expect(r.stderr).toBe('');
    return { code: r.status, checks: (JSON.parse(r.stdout) as { checks: Check[] }).checks };
  };
  const notOk = (checks: Check[], prefix: string): Check[] => checks.filter((c) => c.id.startsWith(prefix) && c.status !== 'ok');
  const ls = (dir: string): string[] => inNs(['ls', '-A', dir]).stdout.split('\n').filter(Boolean);
  const cat = (file: string): string => inNs(['cat', file]).stdout;

  /** The PHP of one dispatch, as WordPress runs it: shim, installed mu-plugins, filter, handler. */
  const wpDispatch = (channel: string, message: string, recipient: string): string[] => {
    const file = `${T}/message-${++messages}`;
    writeFileSync(file, message, { mode: 0o644 });
    return ['php', `${T}/wp-dispatch.php`, `${T}/wp-shim.php`, `${T}/site`, channel, recipient, file];
  };
  const parsed = (r: SpawnSyncReturns<string>): Dispatched => {
    if (r.status !== 0) throw new Error(`php failed (${r.status}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as Dispatched;
  };

  /** A dispatch on a bridge's own (detached) channel, as the web user: the transport returns a pid, the test waits for the CLI's record. */
  async function dispatch(message: string, recipient = ID, channel = 'kimaki'): Promise<Call> {
    const out = parsed(as(WEB, wpDispatch(channel, message, recipient)));
    expect(out.error).toBeNull();
    expect(out.result).toMatchObject({ sent: true, channel, recipient, metadata: { transport: 'cli', detached: true, pid: expect.any(Number) } });
    const [call] = await waitForCalls(RECORDS);
    return call as Call;
  }

  /** A detached dispatch whose CLI exits non-zero within the settle window: the transport's WP_Error, and the CLI's record. */
  async function dispatchFails(message: string, recipient = ID, channel = 'kimaki'): Promise<{ error: NonNullable<Dispatched['error']>; call: Call }> {
    const out = parsed(as(WEB, wpDispatch(channel, message, recipient)));
    expect(out.result).toBeNull();
    const [call] = await waitForCalls(RECORDS);
    return { error: out.error as NonNullable<Dispatched['error']>, call: call as Call };
  }

  /** A dispatch on the synchronous channel: the wrapper's exit code, stdout and stderr, from the result or the WP_Error's data. */
  function dispatchSync(message: string, options: { recipient?: string; uid?: number; argv?: (php: string[]) => string[]; extra?: string[] } = {}): { exit: unknown; stdout: unknown; stderr: unknown; error?: string } {
    const php = wpDispatch(SYNC, message, options.recipient ?? ID);
    const out = parsed(options.argv ? inNs(options.argv(php), { cwd: `${T}/www` }) : as(options.uid ?? WEB, php, { extra: options.extra ?? [] }));
    if (out.error) return { exit: out.error.data.exit_code, stdout: out.error.data.stdout, stderr: out.error.data.stderr, error: `${out.error.code}: ${out.error.message}` };
    expect(out.result?.metadata).toMatchObject({ transport: 'cli', detached: false });
    return { exit: out.result?.metadata.exit_code, stdout: out.result?.metadata.stdout, stderr: out.result?.metadata.stderr };
  }

  /** The one call the fake kimaki recorded since the last check. */
  function onlyCall(): Call {
    const calls = readCalls(RECORDS);
    clearCalls(RECORDS);
    expect(calls).toHaveLength(1);
    return calls[0] as Call;
  }

  beforeAll(async () => {
    [WEB, SVC, OTHER] = throwawayIds() as [number, number, number];
    T = mkdtempSync('/tmp/bridgectl-live-');
    chmodSync(T, 0o755);
    CHANNELS = `${T}/site/wp-content/mu-plugins/wp-coding-agents-channels.php`;
    DATA = `${T}/home/bctlsvc/.kimaki`;
    CC_DATA = `${T}/home/bctlsvc/.cc-connect`;
    RECORDS = `${T}/records`;
    for (const [from, to] of [['test/sudo/wp-dispatch.php', 'wp-dispatch.php'], ['test/php/wp-shim.php', 'wp-shim.php']]) {
      copyFileSync(path.resolve(from as string), `${T}/${to}`);
      chmodSync(`${T}/${to}`, 0o644);
    }

    ns = spawn('unshare', ['--mount', '--propagation', 'private', 'bash', path.resolve('test/sudo/namespace.sh'), T, String(WEB), String(SVC), String(OTHER)], { stdio: ['pipe', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      ns?.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve();
      });
      ns?.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      ns?.on('exit', (code) => reject(new Error(`namespace setup exited ${code}: ${err}`)));
    });
    const fake = `${T}/fake-kimaki`;
    writeFileSync(fake, fakeKimaki(RECORDS), { mode: 0o755 });
    expect(inNs(['install', '-m', '0755', fake, '/usr/local/bin/kimaki']).status).toBe(0);
    writeFileSync(`${T}/fake-cc-connect`, fakeCcConnect(RECORDS), { mode: 0o755 });
    expect(inNs(['install', '-m', '0755', `${T}/fake-cc-connect`, '/usr/local/bin/cc-connect']).status).toBe(0);
    // cc-connect's daemon socket, in the service user's private data dir (the fake only looks for it).
    mkdirSync(`${CC_DATA}/run`, { recursive: true, mode: 0o700 });
    for (const dir of [CC_DATA, `${CC_DATA}/run`]) chownSync(dir, SVC, SVC);
    daemon = createServer();
    await new Promise<void>((resolve, reject) => daemon?.listen(`${CC_DATA}/run/api.sock`, resolve).on('error', reject));
    chownSync(`${CC_DATA}/run/api.sock`, SVC, SVC); // as the daemon, running as the service user, would have it
  });

  afterAll(async () => {
    if (daemon) await new Promise((resolve) => daemon?.close(resolve));
    if (ns && ns.exitCode === null) {
      const exited = new Promise((resolve) => ns?.on('exit', resolve));
      ns.stdin?.end();
      await exited;
    }
    if (T) rmSync(T, { recursive: true, force: true });
  });

  it('direct dispatch fails as the seed did: kimaki runs as the web user and cannot write where it must (exit 64)', async () => {
    const r = bridgectl('install', '--bridge', 'kimaki', '--site', `${T}/site`, '--service-user', 'bctlsvc', '--init', 'none');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // kimaki, started detached as the web user, dies with 64 at once: the transport reports that, not a pid (#16 item 5).
    const { error, call } = await dispatchFails('hello');
    expect(call).toMatchObject({ uid: WEB, exit: 64, done: false });
    expect(error.code).toBe('wp_coding_agents_cli_exit_nonzero');
    expect(error.data).toMatchObject({ channel: 'kimaki', detached: true, exit_code: 64, pid: expect.any(Number) });
    expect(error.message).toMatch(/^channel 'kimaki': \/usr\/local\/bin\/kimaki exited with code 64 within 1s: .*kimaki: /s);
  });

  it('upgrade --dispatch sudo switches with a note, and a dispatch through the transport then reaches kimaki as the service user', async () => {
    const r = upgrade('--dispatch', 'sudo', '--web-user', 'bctlweb');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`note: kimaki: dispatch changes from direct to sudo: the channel now runs ${HOP.wrapper}`);
    // The live sudo (1.9.13 on Debian 12) understands sudoers regexes.
    expect(cat(HOP.sudoers)).toContain(`bctlweb ALL=(bctlsvc) NOPASSWD: ${HOP.target} ^send [0-9]+$\n`);
    expect(inNs(['stat', '-c', '%U:%G %a', HOP.sudoers, HOP.target, HOP.wrapper]).stdout).toBe('root:root 440\nroot:root 755\nroot:root 755\n');

    const call = await dispatch('hello');
    expect(call.exit).toBe(0);
    expect(call.uid).toBe(SVC);
    expect(call.gid).toBe(SVC);
    expect(call.cwd).toBe(`${T}/home/bctlsvc`); // the target cds into the service user's home, where kimaki writes ./tmp
    expect(call.done).toBe(true);
    expect(call.env).toEqual({ HOME: `${T}/home/bctlsvc`, KIMAKI_DATA_DIR: DATA, PATH: '/usr/local/bin:/usr/bin:/bin', PWD: `${T}/home/bctlsvc` });

    // The synchronous channel: the wrapper's exit code and output come back to PHP.
    const set = inNs([process.execPath, BIN, 'channel', 'set', SYNC, '--site', `${T}/site`, '--command', HOP.wrapper,
      '--arg', 'send', '--arg=--channel', '--arg', '{recipient}', '--arg=--prompt', '--arg', '{message}', '--no-detach', '--timeout', '60', '--root', '/']);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(dispatchSync('hello')).toEqual({ exit: 0, stdout: 'fake kimaki: sent\n', stderr: '' });
    expect(onlyCall().uid).toBe(SVC);
  });

  it.each(HOSTILE_MESSAGES)('delivers a message byte for byte as one argument: %s', async (_name, message) => {
    const call = await dispatch(message);
    expect(call.exit).toBe(0);
    expect(call.argv).toEqual(['send', '--channel', ID, `--prompt=${message}`]);
    expect(call.uid).toBe(SVC);
    expect(existsSync('/tmp/bridgectl-pwned')).toBe(false);
  });

  it('takes exactly 64 KiB; one byte more is refused by the transport before anything runs, and by the hop (exit 65) when run directly', () => {
    const max = 'ü'.repeat(MAX_MESSAGE_BYTES / 2);
    expect(dispatchSync(max).exit).toBe(0);
    expect(onlyCall().argv[3]).toBe(`--prompt=${max}`);
    const over = dispatchSync(`${max}!`);
    expect(over.error).toBe(`wp_coding_agents_cli_message_too_large: channel 'kimaki-sync': the message is ${MAX_MESSAGE_BYTES + 1} bytes; the limit is ${MAX_MESSAGE_BYTES} (the sudo hop's, applied in every mode)`);
    const hop = as(WEB, [HOP.wrapper, 'send', '--channel', ID, '--prompt', `${max}!`]);
    expect(hop.status).toBe(65);
    expect(hop.stderr).toContain('kimaki-dispatch-target: the message is larger than 65536 bytes; refused');
    expect(readCalls(RECORDS)).toEqual([]);
  });

  it('refuses a message with a NUL byte on the hop (exit 76) instead of delivering it without the NUL', () => {
    // Only stdin can carry a NUL (argv cannot): the web user feeding the grant directly.
    const r = as(WEB, ['sudo', '-n', '-u', 'bctlsvc', '--', HOP.target, 'send', ID], { input: 'a\0b' });
    expect(r.stderr).toBe('kimaki-dispatch-target: the message contains a NUL byte, which no argument can carry; refused\n');
    expect(r.status).toBe(76);
    expect(readCalls(RECORDS)).toEqual([]);
  });

  it("keeps message bodies out of sudo's log: it records only the target, the subcommand and the id", async () => {
    const secret = 'customer secret 4242-4242';
    expect((await dispatch(secret)).exit).toBe(0);
    const log = readFileSync(`${T}/sudo.log`, 'utf8').replace(/\s+/g, ' '); // sudo wraps long lines
    expect(log).toContain(`COMMAND=${HOP.target} send ${ID}`);
    expect(log).not.toContain('4242');
    expect(log).not.toContain('hello');
  });

  it('the wrapper: bad argv 64, refused grant 77, no_new_privs 77, no sudo 69, each a WP_Error in PHP with a clear message', () => {
    const bad = as(WEB, [HOP.wrapper, 'send', '--channel', ID, 'hi']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('bridgectl-kimaki-dispatch: usage: bridgectl-kimaki-dispatch send --channel <recipient> --prompt <message>');

    const exitNonzero = /^wp_coding_agents_cli_exit_nonzero: channel 'kimaki-sync': \S+ exited with code (\d+): /;
    const badRecipient = dispatchSync('hi', { recipient: '12a' });
    expect(badRecipient).toMatchObject({ exit: 64, stdout: '', stderr: 'bridgectl-kimaki-dispatch: the recipient must be a Discord channel id (digits only)\n' });
    expect(badRecipient.error).toMatch(exitNonzero);

    const refused = dispatchSync('hi', { uid: OTHER });
    expect(refused.exit).toBe(77);
    expect(refused.error).toMatch(exitNonzero);
    expect(refused.stderr).toContain(`sudo refused: bctlother may not run ${HOP.target} as bctlsvc without a password`);

    const nnp = dispatchSync('hi', { extra: ['--no-new-privs'] });
    expect(nnp.exit).toBe(77);
    expect(nnp.stderr).toContain('no_new_privs is set for this process');

    // sudo hidden (in a nested namespace) by mounting /dev/null over it.
    const noSudo = dispatchSync('hi', {
      argv: (php) => [
        'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind /dev/null /usr/bin/sudo && exec "$@"', 'sh',
        'setpriv', `--reuid=${WEB}`, `--regid=${WEB}`, '--init-groups', '--reset-env', '--', ...php,
      ],
    });
    expect(noSudo.exit).toBe(69);
    expect(noSudo.error).toMatch(exitNonzero);
    expect(noSudo.stderr).toContain('sudo is not installed');
    expect(readCalls(RECORDS)).toEqual([]);
  });

  it('the wrapper run by the service user itself, or by root, still lands as the service user', () => {
    for (const uid of [SVC, 0]) {
      const r = as(uid, [HOP.wrapper, 'send', '--channel', ID, '--prompt', '- from cron']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const call = onlyCall();
      expect(call.uid).toBe(SVC);
      expect(call.argv).toEqual(['send', '--channel', ID, '--prompt=- from cron']);
    }
  });

  const refusals: [string, string[]][] = [
    ['another subcommand', ['-u', 'bctlsvc', '--', HOP.target, 'status']],
    ['another subcommand with an id', ['-u', 'bctlsvc', '--', HOP.target, 'upload', ID]],
    ['an extra argument', ['-u', 'bctlsvc', '--', HOP.target, 'send', ID, '--data-dir=/tmp/x']],
    ['a second id', ['-u', 'bctlsvc', '--', HOP.target, 'send', ID, '1']],
    ['no arguments', ['-u', 'bctlsvc', '--', HOP.target]],
    ['the subcommand alone', ['-u', 'bctlsvc', '--', HOP.target, 'send']],
    ['a recipient with a space', ['-u', 'bctlsvc', '--', HOP.target, 'send', '123 456']],
    ['a recipient with letters', ['-u', 'bctlsvc', '--', HOP.target, 'send', '12a']],
    ['a recipient that is an option', ['-u', 'bctlsvc', '--', HOP.target, 'send', '-1']],
    ['/bin/sh', ['-u', 'bctlsvc', '--', '/bin/sh', '-c', 'id']],
    ['a login shell', ['-u', 'bctlsvc', '-i']],
    ['kimaki itself', ['-u', 'bctlsvc', '--', '/usr/local/bin/kimaki', 'send', '--channel', ID, '--prompt=x']],
    ['another target user', ['-u', 'bctlother', '--', HOP.target, 'send', ID]],
    ['root', ['-u', 'root', '--', HOP.target, 'send', ID]],
    ['another group', ['-u', 'bctlsvc', '-g', 'bctlother', '--', HOP.target, 'send', ID]],
    ['VAR=x', ['-u', 'bctlsvc', 'VAR=x', HOP.target, 'send', ID]],
    ['-E', ['-E', '-u', 'bctlsvc', '--', HOP.target, 'send', ID]],
    ['--preserve-env=PATH', ['--preserve-env=PATH', '-u', 'bctlsvc', '--', HOP.target, 'send', ID]],
    ['sudoedit', ['-u', 'bctlsvc', '-e', `${T}/x`]],
  ];

  for (const form of ['regex', 'wildcard'] as const) {
    it(`with the ${form} grant, the web user can run the hop as the service user and nothing else`, () => {
      const r = upgrade(form === 'regex' ? '--sudo-regex' : '--no-sudo-regex');
      expect(r.status).toBe(0);
      expect(cat(HOP.sudoers)).toContain(form === 'regex' ? '^send [0-9]+$' : 'send [0-9]*, !');

      const allowed = as(WEB, ['sudo', '-n', '-u', 'bctlsvc', '--', HOP.target, 'send', ID], { input: 'ok' });
      expect(allowed.stderr).toBe('');
      expect(allowed.status).toBe(0);
      expect(onlyCall().argv).toEqual(['send', '--channel', ID, '--prompt=ok']);

      const failures: string[] = [];
      for (const [name, args] of refusals) {
        // Every refusal has to come from sudo itself (-n: no password to ask for).
        const res = as(WEB, ['sudo', '-n', ...args.map((a) => a.replace('${T}', T))], { input: 'ok' });
        if (res.status === 0 || !/password is required|not allowed|sorry/i.test(res.stderr)) failures.push(`${name}: exit ${res.status}, ${res.stderr.trim()}`);
      }
      expect(failures).toEqual([]);
      const stranger = as(OTHER, ['sudo', '-n', '-u', 'bctlsvc', '--', HOP.target, 'send', ID], { input: 'ok' });
      expect(stranger.status).not.toBe(0);
      expect(readCalls(RECORDS)).toEqual([]);
    });
  }

  it('doctor, as root on the live host, tries the grant as the web user and finds the hop healthy', () => {
    const { code, checks } = doctor();
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    expect(notOk(checks, 'channel.kimaki.sudo.')).toEqual([]);
    expect(checks.filter((c) => c.id.startsWith('channel.kimaki.sudo.')).map((c) => c.id)).toEqual([
      'channel.kimaki.sudo.channel',
      'channel.kimaki.sudo.web-user',
      'channel.kimaki.sudo.binary',
      'channel.kimaki.sudo.version',
      'channel.kimaki.sudo.sudoers',
      'channel.kimaki.sudo.target',
      'channel.kimaki.sudo.wrapper',
      'channel.kimaki.sudo.dirs',
      'channel.kimaki.sudo.cli',
      'channel.kimaki.sudo.visudo',
      'channel.kimaki.sudo.grant.bctlweb',
      'channel.kimaki.sudo.data-dir',
      'channel.kimaki.sudo.cwd',
    ]);
    expect(checks.find((c) => c.id === 'channel.kimaki.sudo.grant.bctlweb')?.message).toBe('as bctlweb: sudo allows the hop to bctlsvc and refuses /bin/sh');
    expect(checks.find((c) => c.id === 'channel.kimaki.sudo.binary')?.message).toBe('/usr/bin/sudo is installed, root-owned and setuid');
  });

  it('a CLI the web user owns: upgrade refuses and writes nothing, doctor fails (#17 item 1)', () => {
    expect(inNs(['chown', 'bctlweb', '/usr/local/bin/kimaki']).status).toBe(0);
    try {
      const before = inNs(['sha256sum', HOP.sudoers, HOP.target, HOP.wrapper, CHANNELS]).stdout;
      const r = upgrade();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('kimaki: refusing the sudo hop: /usr/local/bin/kimaki is owned by bctlweb (uid ');
      expect(r.stderr).toContain('so bctlweb could change the kimaki CLI, which the hop runs as bctlsvc');
      expect(inNs(['sha256sum', HOP.sudoers, HOP.target, HOP.wrapper, CHANNELS]).stdout).toBe(before);
      const { code, checks } = doctor();
      expect(code).toBe(1);
      expect(checks.find((c) => c.id === 'channel.kimaki.sudo.cli')).toMatchObject({ status: 'fail', message: expect.stringContaining('/usr/local/bin/kimaki is owned by bctlweb') });
    } finally {
      expect(inNs(['chown', 'root', '/usr/local/bin/kimaki']).status).toBe(0);
    }
    expect(upgrade().status).toBe(0);
  });

  it('doctor catches a widened grant and a loosened helper; upgrade puts both back', () => {
    const wide = cat(HOP.sudoers).replace(/NOPASSWD: .*$/m, 'NOPASSWD: ALL');
    writeFileSync(`${T}/wide`, wide);
    expect(inNs(['install', '-m', '0440', `${T}/wide`, HOP.sudoers]).status).toBe(0);
    expect(inNs(['chmod', '0777', HOP.target]).status).toBe(0);
    const broken = doctor();
    expect(broken.code).toBe(1);
    expect(broken.checks.filter((c) => c.status === 'fail').map((c) => [c.id, c.message])).toEqual([
      ['channel.kimaki.sudo.sudoers', `${HOP.sudoers}: its content differs from what bridgectl writes`],
      ['channel.kimaki.sudo.target', `${HOP.target}: mode 0777, want 0755`],
      ['channel.kimaki.sudo.grant.bctlweb', 'as bctlweb: sudo also allows /bin/sh as bctlsvc: some other grant is far wider than the hop'],
    ]);
    expect(upgrade().status).toBe(0);
    const healed = doctor();
    expect(healed.code).toBe(0);
    expect(notOk(healed.checks, 'channel.kimaki.sudo.')).toEqual([]);
  });

  it('a drop-in refused by visudo never reaches /etc/sudoers.d, and the old grant keeps working', () => {
    const before = cat(HOP.sudoers);
    const fakeBin = `${T}/fakebin`;
    inNs(['mkdir', '-p', fakeBin]);
    writeFileSync(`${fakeBin}/visudo`, '#!/bin/sh\necho "syntax error" >&2\nexit 1\n', { mode: 0o755 });
    // bridgectl takes visudo from the fixed system paths only (never $PATH): the refusing one is
    // bind-mounted over the first of them, inside the namespace and only for this run.
    const visudo = VISUDO_PATHS.find((p) => existsSync(p)) ?? '';
    expect(inNs(['mount', '--bind', `${fakeBin}/visudo`, visudo]).status).toBe(0);
    let r: SpawnSyncReturns<string>;
    try {
      r = inNs([process.execPath, BIN, 'upgrade', '--site', `${T}/site`, '--web-user', 'bctlweb', '--web-user', 'bctlother', '--root', '/']);
    } finally {
      expect(inNs(['umount', visudo]).status).toBe(0);
    }
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('visudo -cf refused the new drop-in, so it was not installed');
    expect(ls('/etc/sudoers.d')).toEqual(['bridgectl-kimaki', 'zz-bridgectl-test-log']);
    expect(cat(HOP.sudoers)).toBe(before);
    expect(dispatchSync('still works').exit).toBe(0);
    onlyCall();
  });

  it('upgrade twice is a no-op', () => {
    for (let i = 0; i < 2; i++) {
      const r = upgrade('--json');
      expect(r.status).toBe(0);
      const doc = JSON.parse(r.stdout) as { files: { status: string }[]; notes: string[] };
      expect(doc.files.map((f) => f.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']); // hop ×3, channels, transport
      expect(doc.notes).toEqual([]);
    }
  });

  it('uninstall removes the three files and nothing else; the grant is gone', () => {
    expect(inNs([process.execPath, BIN, 'channel', 'remove', SYNC, '--site', `${T}/site`, '--root', '/']).status).toBe(0);
    const dirs = ['/etc/sudoers.d', '/usr/local/bin', '/usr/local/lib', '/usr/local/lib/bridgectl'];
    const before = Object.fromEntries(dirs.map((d) => [d, ls(d)]));
    const r = bridgectl('uninstall', '--bridge', 'kimaki', '--site', `${T}/site`);
    expect(r.status).toBe(0);
    const after = Object.fromEntries(dirs.map((d) => [d, ls(d)]));
    expect(after).toEqual({
      '/etc/sudoers.d': before['/etc/sudoers.d']?.filter((f) => f !== 'bridgectl-kimaki'),
      '/usr/local/bin': before['/usr/local/bin']?.filter((f) => f !== 'bridgectl-kimaki-dispatch'),
      '/usr/local/lib': before['/usr/local/lib'],
      '/usr/local/lib/bridgectl': [],
    });
    expect(readFileSync(CHANNELS, 'utf8')).not.toContain('bridge:kimaki');
    expect(as(WEB, ['sudo', '-n', '-l', '-u', 'bctlsvc', '--', HOP.target, 'send', ID]).status).not.toBe(0);
  });
  it("cc-connect, direct: the web user cannot reach the daemon's socket under the service user's home", async () => {
    const r = bridgectl('install', '--bridge', 'cc-connect', '--site', `${T}/site`, '--service-user', 'bctlsvc', '--init', 'none');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { error, call } = await dispatchFails('hello', PROJECT, 'cc-connect');
    expect(call).toMatchObject({ uid: WEB, exit: 1, done: false });
    expect(error).toMatchObject({ code: 'wp_coding_agents_cli_exit_nonzero', data: { channel: 'cc-connect', detached: true, exit_code: 1 } });
  });

  it('cc-connect: install --dispatch sudo switches it, and a dispatch through the transport reaches cc-connect as the service user', async () => {
    const r = bridgectl('install', '--bridge', 'cc-connect', '--site', `${T}/site`, '--dispatch', 'sudo', '--web-user', 'bctlweb');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`note: cc-connect: dispatch changes from direct to sudo: the channel now runs ${CC.wrapper}`);
    expect(cat(CC.sudoers)).toContain(`bctlweb ALL=(bctlsvc) NOPASSWD: ${CC.target} ^send [A-Za-z0-9][A-Za-z0-9_.-]*$\n`);
    expect(inNs(['stat', '-c', '%U:%G %a', CC.sudoers, CC.target, CC.wrapper]).stdout).toBe('root:root 440\nroot:root 755\nroot:root 755\n');

    const call = await dispatch('hello', PROJECT, 'cc-connect');
    expect(call).toMatchObject({ uid: SVC, gid: SVC, cwd: `${T}/home/bctlsvc`, done: true, exit: 0 });
    expect(call.argv).toEqual(['send', '--project', PROJECT, '--message', 'hello']);
    expect(call.env).toEqual({ HOME: `${T}/home/bctlsvc`, PATH: '/usr/local/bin:/usr/bin:/bin', PWD: `${T}/home/bctlsvc` });
  });

  it.each([...HOSTILE_MESSAGES, ['a cc-connect flag', '--stdin'] as [string, string]])('cc-connect: delivers a message byte for byte after --message: %s', async (_name, message) => {
    const call = await dispatch(message, PROJECT, 'cc-connect');
    expect(call.exit).toBe(0);
    expect(call.argv).toEqual(['send', '--project', PROJECT, '--message', message]);
    expect(call.uid).toBe(SVC);
    expect(existsSync('/tmp/bridgectl-pwned')).toBe(false);
  });

  const ccRefusals: [string, string[]][] = [
    ['a project that is an option', ['send', '-rf']],
    ['a project that is --help', ['send', '--help']],
    ['a project starting with a dot', ['send', '.hidden']],
    ['a project with a slash', ['send', '../x']],
    ['a project with a space', ['send', 'my project']],
    ['an empty project', ['send', '']],
    ['an extra argument', ['send', PROJECT, '--data-dir=/tmp/x']],
    ['a second word', ['send', PROJECT, 'x']],
    ['another subcommand', ['status', PROJECT]],
    ['the subcommand alone', ['send']],
    ['no arguments', []],
  ];

  for (const form of ['regex', 'wildcard'] as const) {
    it(`cc-connect: with the ${form} grant, the web user can send to a project as the service user and nothing else`, () => {
      const r = upgrade(form === 'regex' ? '--sudo-regex' : '--no-sudo-regex');
      expect(r.status).toBe(0);
      expect(cat(CC.sudoers)).toContain(form === 'regex' ? '^send [A-Za-z0-9][A-Za-z0-9_.-]*$' : 'send [A-Za-z0-9]*, !');
      for (const project of [PROJECT, 'A.b_c-9', '0']) {
        const allowed = as(WEB, ['sudo', '-n', '-u', 'bctlsvc', '--', CC.target, 'send', project], { input: 'ok' });
        expect(allowed.stderr).toBe('');
        expect(allowed.status).toBe(0);
        expect(onlyCall().argv).toEqual(['send', '--project', project, '--message', 'ok']);
      }
      const failures: string[] = [];
      for (const [name, args] of ccRefusals) {
        const res = as(WEB, ['sudo', '-n', '-u', 'bctlsvc', '--', CC.target, ...args], { input: 'ok' });
        if (res.status === 0 || !/password is required|not allowed|sorry/i.test(res.stderr)) failures.push(`${name}: exit ${res.status}, ${res.stderr.trim()}`);
      }
      expect(failures).toEqual([]);
      expect(readCalls(RECORDS)).toEqual([]);
    });
  }

  it('cc-connect: doctor on the live host finds its hop healthy and the socket reachable by the service user', () => {
    const { code, checks } = doctor();
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    expect(notOk(checks, 'channel.cc-connect.sudo.')).toEqual([]);
    expect(checks.find((c) => c.id === 'channel.cc-connect.sudo.grant.bctlweb')?.message).toBe('as bctlweb: sudo allows the hop to bctlsvc and refuses /bin/sh');
    expect(checks.find((c) => c.id === 'channel.cc-connect.socket')).toMatchObject({ status: 'ok', message: `bctlsvc can connect to ${CC_DATA}/run/api.sock` });
  });

  it('cc-connect: uninstall removes its three files; the grant is gone', () => {
    const r = bridgectl('uninstall', '--bridge', 'cc-connect', '--site', `${T}/site`);
    expect(r.status).toBe(0);
    for (const p of Object.values(CC)) expect(inNs(['test', '-e', p]).status).not.toBe(0);
    expect(as(WEB, ['sudo', '-n', '-l', '-u', 'bctlsvc', '--', CC.target, 'send', PROJECT]).status).not.toBe(0);
  });
});
