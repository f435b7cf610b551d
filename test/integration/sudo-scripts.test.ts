/**
 * The hop's two scripts, run for real without sudo: the service user is
 * whoever runs the tests, so the wrapper takes its no-sudo path straight to
 * the target, which runs the fake kimaki. This covers the argv checks, the
 * message limit and byte-exact delivery on any machine; the sudo hop itself
 * is test/sudo/live.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { kimaki } from '../../bridges/kimaki.js';
import type { ChannelSpec } from '../../installer/channel.js';
import type { Identity } from '../../installer/identity.js';
import { shellQuote } from '../../installer/shell.js';
import { MAX_MESSAGE_BYTES, renderHop, type SudoHopSpec } from '../../installer/sudo-hop.js';
import { clearCalls, fakeKimaki, HOSTILE_MESSAGES, readCalls } from '../helpers/dispatch.js';
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

function hop(): Hop {
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
    dataDir: path.join(dir, 'home/.kimaki'),
    binary: path.join(dir, 'bin/kimaki'),
    binaries: { kimaki: path.join(dir, 'bin/kimaki') },
    site: '/var/www/html',
    init: 'none',
  };
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  writeFileSync(identity.binary, fakeKimaki(records), { mode: 0o755 });
  const rendered = renderHop({
    bridge: kimaki,
    hop: kimaki.sudoHop as SudoHopSpec,
    identity,
    channel: kimaki.channel(identity, {}) as ChannelSpec,
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

  it('runs the CLI from the data dir with HOME, the data dir and a fixed PATH, and nothing inherited', () => {
    expect(run(h.target, ['send', ID], 'hi').status).toBe(0);
    const [call] = readCalls(h.records);
    expect(call?.cwd).toBe(h.identity.dataDir);
    expect(call?.done).toBe(true);
    expect(existsSync(path.join(h.identity.dataDir, 'tmp'))).toBe(true);
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
