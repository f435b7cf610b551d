/**
 * The hop's two scripts, run for real without sudo: the service user is
 * whoever runs the tests, so the wrapper takes its no-sudo path straight to
 * the target, which runs the fake kimaki (or cc-connect). This covers the
 * argv checks, the message limit and byte-exact delivery on any machine;
 * the sudo hop itself is test/sudo/live.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { ccConnect } from '../../bridges/cc-connect.js';
import { kimaki } from '../../bridges/kimaki.js';
import type { BridgeDefinition } from '../../installer/model/bridge.js';
import type { ChannelSpec } from '../../installer/model/channel.js';
import type { Identity } from '../../installer/model/identity.js';
import { shellQuote } from '../../installer/lib/shell.js';
import { MAX_MESSAGE_BYTES, renderHop } from '../../installer/render/sudo-hop.js';
import { type SudoHopSpec } from '../../installer/model/sudo.js';
import { clearCalls, fakeCcConnect, fakeKimaki, HOSTILE_MESSAGES, readCalls } from '../helpers/dispatch.js';
import { isRoot } from '../helpers/sandbox.js';

// Not helpers/sandbox: its roots are removed after each test, these live for a describe.
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Hop {
  dir: string;
  target: string;
  wrapper: string;
  records: string;
  identity: Identity;
}

function hop(bridge: BridgeDefinition = kimaki, dataDir = 'home/.kimaki'): Hop {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-hop-'));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const records = path.join(dir, 'records');
  mkdirSync(records);
  mkdirSync(path.join(dir, 'home'));
  const identity: Identity = {
    serviceUser: userInfo().username,
    uid: userInfo().uid,
    gid: userInfo().gid,
    home: path.join(dir, 'home'),
    dataDir: path.join(dir, dataDir),
    binary: path.join(dir, `bin/${bridge.binaryName}`),
    binaries: { [bridge.binaryName]: path.join(dir, `bin/${bridge.binaryName}`) },
    site: '/var/www/html',
    init: 'none',
  };
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  writeFileSync(identity.binary, bridge === kimaki ? fakeKimaki(records) : fakeCcConnect(records), { mode: 0o755 });
  const rendered = renderHop({
    bridge,
    hop: bridge.sudoHop as SudoHopSpec,
    identity,
    channel: bridge.channel(identity, {}) as ChannelSpec,
    webUsers: ['www-data'],
    form: 'regex',
    cliPath: '/usr/local/bin:/usr/bin:/bin',
  });
  const target = path.join(dir, 'target');
  const wrapper = path.join(dir, 'wrapper');
  writeFileSync(target, rendered.target, { mode: 0o755 });
  // The one test-only edit: the wrapper runs this target instead of /usr/local/lib/bridgectl's.
  writeFileSync(wrapper, rendered.wrapper.replace(`TARGET=${shellQuote(rendered.paths.target)}`, `TARGET=${shellQuote(target)}`), { mode: 0o755 });
  return { dir, target, wrapper, records, identity };
}

function run(file: string, args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { input, encoding: 'utf8', cwd: '/', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', SECRET_FROM_PHP: 'x' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ID = '123456789012345678';

describe('the target helper', () => {
  let h: Hop;
  beforeAll(() => {
    h = hop();
  });
  afterEach(() => clearCalls(h.records));

  it.each(HOSTILE_MESSAGES)('passes a message (%s) from stdin to the CLI byte for byte, as one argument', (_name, message) => {
    const r = run(h.target, ['send', ID], message);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const calls = readCalls(h.records);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv).toEqual(['send', '--channel', ID, `--prompt=${message}`]);
  });

  it('runs the CLI from the service user\'s home (sudo keeps the caller\'s cwd) with HOME, the data dir and a fixed PATH, and nothing inherited', () => {
    expect(run(h.target, ['send', ID], 'hi').status).toBe(0);
    const [call] = readCalls(h.records);
    expect(call?.cwd).toBe(h.identity.home);
    expect(call?.done).toBe(true);
    expect(existsSync(path.join(h.identity.home, 'tmp'))).toBe(true);
    expect(call?.env.HOME).toBe(h.identity.home);
    expect(call?.env.KIMAKI_DATA_DIR).toBe(h.identity.dataDir);
    expect(call?.env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
    expect(call?.env.SECRET_FROM_PHP).toBeUndefined();
    expect(Object.keys(call?.env ?? {}).filter((k) => !['HOME', 'KIMAKI_DATA_DIR', 'PATH', 'PWD', 'OLDPWD'].includes(k))).toEqual([]);
  });

  it('takes a message of exactly 64 KiB and refuses one byte more (exit 65), before running anything', () => {
    const max = 'é'.repeat(MAX_MESSAGE_BYTES / 2); // bytes, not characters, count
    expect(run(h.target, ['send', ID], max).status).toBe(0);
    expect(readCalls(h.records)[0]?.argv[3]).toBe(`--prompt=${max}`);
    clearCalls(h.records);
    const over = run(h.target, ['send', ID], `${max}x`);
    expect(over.status).toBe(65);
    expect(over.stderr).toMatch(/larger than 65536 bytes/);
    expect(run(h.target, ['send', ID], 'y'.repeat(1 << 20)).status).toBe(65);
    expect(readCalls(h.records)).toEqual([]);
  });

  it.each([
    ['no arguments', []],
    ['the subcommand alone', ['send']],
    ['another subcommand', ['upload', ID]],
    ['an extra argument', ['send', ID, '--data-dir=/tmp']],
    ['two recipients', ['send', ID, '1']],
    ['a recipient with a space', ['send', '123 456']],
    ['a recipient with letters', ['send', '12a']],
    ['a recipient that is an option', ['send', '-1']],
    ['an empty recipient', ['send', '']],
  ])('refuses %s with exit 64', (_name, args) => {
    const r = run(h.target, args, 'hi');
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/^kimaki-dispatch-target: /);
    expect(readCalls(h.records)).toEqual([]);
  });

  it('refuses an empty message with exit 64', () => {
    expect(run(h.target, ['send', ID], '').status).toBe(64);
  });

  // A shell variable cannot hold a NUL: read plainly, `a\0b` reached the CLI as `ab`.
  it.each([
    ['inside', 'a\0b'],
    ['first', '\0ab'],
    ['last', 'ab\0'],
    ['alone', '\0'],
    ['after 64 KiB - 1 bytes', `${'y'.repeat(MAX_MESSAGE_BYTES - 1)}\0`],
  ])('refuses a message with a NUL byte %s (exit 76), before running anything', (_name, message) => {
    const r = run(h.target, ['send', ID], message);
    expect(r.stderr).toBe('kimaki-dispatch-target: the message contains a NUL byte, which no argument can carry; refused\n');
    expect(r.status).toBe(76);
    expect(readCalls(h.records)).toEqual([]);
  });

  it('passes every other ASCII byte through unchanged (the text is rebuilt from its octets)', () => {
    const every = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).join('');
    for (const message of [every, `${every}\n\n`, '\\0 \\000 %b %% \\141']) {
      expect(run(h.target, ['send', ID], message)).toMatchObject({ status: 0, stderr: '' });
      expect(readCalls(h.records).map((c) => c.argv[3])).toEqual([`--prompt=${message}`]);
      clearCalls(h.records);
    }
  });

  (isRoot ? it : it.skip)('refuses to run as anyone but the service user (exit 77)', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', h.target, 'send', ID], { input: 'hi', encoding: 'utf8', cwd: '/' });
    expect(r.status).toBe(77);
    expect(r.stderr).toMatch(/runs only as root/);
  });
});

describe('the wrapper, called by the service user itself', () => {
  let h: Hop;
  beforeAll(() => {
    h = hop();
    chmodSync(h.dir, 0o755);
  });
  afterEach(() => clearCalls(h.records));

  it.each(HOSTILE_MESSAGES)('hands the channel argv to the target without sudo: %s', (_name, message) => {
    const r = run(h.wrapper, ['send', '--channel', ID, '--prompt', message]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readCalls(h.records).map((c) => c.argv)).toEqual([['send', '--channel', ID, `--prompt=${message}`]]);
  });

  it.each([
    ['no arguments', []],
    ['the old four-argument shape', ['send', '--channel', ID, 'hi']],
    ['another subcommand', ['upload', '--channel', ID, '--prompt', 'hi']],
    ['--prompt= form', ['send', '--channel', ID, '--prompt=hi', 'x']],
    ['swapped flags', ['send', '--prompt', 'hi', '--channel', ID]],
    ['an extra argument', ['send', '--channel', ID, '--prompt', 'hi', '--data-dir=/tmp']],
    ['a recipient with letters', ['send', '--channel', 'abc', '--prompt', 'hi']],
    ['a recipient with a space', ['send', '--channel', '1 2', '--prompt', 'hi']],
    ['an empty message', ['send', '--channel', ID, '--prompt', '']],
  ])('refuses %s with exit 64 and says how it is called', (_name, args) => {
    const r = run(h.wrapper, args);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/^bridgectl-kimaki-dispatch: /);
    expect(readCalls(h.records)).toEqual([]);
  });

  it("passes the target's refusal of an oversized message through (exit 65)", () => {
    const r = run(h.wrapper, ['send', '--channel', ID, '--prompt', 'z'.repeat(MAX_MESSAGE_BYTES + 1)]);
    expect(r.status).toBe(65);
    expect(readCalls(h.records)).toEqual([]);
  });
});

describe('cc-connect: the target and the wrapper', () => {
  const PROJECT = 'my-project';
  const servers: Server[] = [];
  /** cc-connect's daemon socket, where the fake looks for it. */
  const daemon = (dataDir: string): Promise<void> =>
    new Promise((resolve, reject) => {
      mkdirSync(path.join(dataDir, 'run'), { recursive: true });
      const server = createServer().listen(path.join(dataDir, 'run/api.sock'), () => resolve());
      server.on('error', reject);
      servers.push(server);
    });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  let h: Hop;
  let moved: Hop;
  beforeAll(async () => {
    h = hop(ccConnect, 'home/.cc-connect');
    moved = hop(ccConnect, 'srv/cc data');
    await daemon(h.identity.dataDir);
    await daemon(moved.identity.dataDir);
  });
  afterEach(() => {
    clearCalls(h.records);
    clearCalls(moved.records);
  });

  it.each(HOSTILE_MESSAGES)('delivers a message (%s) after --message, byte for byte, whatever it starts with', (_name, message) => {
    const r = run(h.wrapper, ['send', '--project', PROJECT, message]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Message sent successfully.\n');
    const calls = readCalls(h.records);
    expect(calls.map((c) => c.argv)).toEqual([['send', '--project', PROJECT, '--message', message]]);
    expect(calls[0]?.done).toBe(true);
  });

  it('messages that are cc-connect flags stay messages', () => {
    for (const message of ['--help', '-m', '--stdin', '--data-dir', '--', '-p x']) {
      expect(run(h.target, ['send', PROJECT], message).status).toBe(0);
      expect(readCalls(h.records).map((c) => c.argv)).toEqual([['send', '--project', PROJECT, '--message', message]]);
      clearCalls(h.records);
    }
  });

  it('runs cc-connect from the service user\'s home with HOME and a fixed PATH, and nothing inherited', () => {
    expect(run(h.target, ['send', PROJECT], 'hi').status).toBe(0);
    const [call] = readCalls(h.records);
    expect(call?.cwd).toBe(h.identity.home);
    expect(Object.keys(call?.env ?? {}).sort()).toEqual(['HOME', 'PATH', 'PWD']);
    expect(call?.env.HOME).toBe(h.identity.home);
  });

  it('passes a data dir other than the default as --data-dir, where the daemon listens', () => {
    const r = run(moved.wrapper, ['send', '--data-dir', moved.identity.dataDir, '--project', PROJECT, '- hi']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [call] = readCalls(moved.records);
    expect(call?.argv).toEqual(['send', '--data-dir', moved.identity.dataDir, '--project', PROJECT, '--message', '- hi']);
    expect(call?.cwd).toBe(moved.identity.home);
    expect(call?.done).toBe(true);
    // The wrapper accepts only the channel's own data dir.
    expect(run(moved.wrapper, ['send', '--data-dir', '/tmp', '--project', PROJECT, 'hi']).status).toBe(64);
    expect(run(moved.wrapper, ['send', '--project', PROJECT, 'hi']).status).toBe(64);
  });

  it.each([
    ['a leading dash', '-rf'],
    ['a lone dash', '-'],
    ['an option', '--help'],
    ['a leading dot', '.hidden'],
    ['a leading underscore', '_x'],
    ['a space', 'my project'],
    ['a slash', '../x'],
    ['non-ASCII', 'projét'],
    ['empty', ''],
  ])('refuses a project with %s (exit 64) in the target and in the wrapper', (_name, project) => {
    const target = run(h.target, ['send', project], 'hi');
    expect(target.status).toBe(64);
    expect(target.stderr).toContain('cc-connect-dispatch-target: the recipient must be a cc-connect project name');
    const wrapper = run(h.wrapper, ['send', '--project', project, 'hi']);
    expect(wrapper.status).toBe(64);
    expect(wrapper.stderr).toMatch(/^bridgectl-cc-connect-dispatch: /);
    expect(readCalls(h.records)).toEqual([]);
  });

  it('refuses any other shape (exit 64)', () => {
    for (const args of [['send'], ['send', PROJECT, 'x'], ['status', PROJECT], []]) expect(run(h.target, args, 'hi').status).toBe(64);
    for (const args of [['send', PROJECT, 'hi'], ['send', '-p', PROJECT, 'hi'], ['send', '--project', PROJECT, '--message', 'hi']]) expect(run(h.wrapper, args).status).toBe(64);
    expect(readCalls(h.records)).toEqual([]);
  });
});
