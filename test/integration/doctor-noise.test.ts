/**
 * #19 item 5: doctor's noise. A warning only where it can matter for an
 * installed channel, every fix a command (applied here, where it can be),
 * "no channels installed" when there are none, lines wrapped.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { main } from '../../installer/cli/cli.js';
import { runDoctor } from '../../installer/cli/commands/doctor.js';
import { nodeHost } from '../../installer/facts/host.js';
import type { Check } from '../../installer/model/doctor.js';
import { shellWords } from '../../installer/report/wrap.js';
import { runMain } from '../helpers/cli.js';
import { at, CHANNELS, serverSandbox, SITE } from '../helpers/sandbox.js';

const TRANSPORT = `${SITE}/wp-content/mu-plugins/wp-coding-agents-cli-transport.php`;
const POOL = { 'etc/php/8.2/fpm/pool.d/www.conf': '[www]\nuser = www-data\ngroup = www-data\n' };

async function ok(argv: string[]): Promise<void> {
  const r = await runMain(argv);
  expect([argv.join(' '), r.code, r.stderr]).toEqual([argv.join(' '), 0, expect.any(String)]);
}

async function kimaki(): Promise<string> {
  const root = serverSandbox(POOL);
  await ok(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root]);
  return root;
}

async function custom(root = serverSandbox(POOL), env: string[] = []): Promise<string> {
  // channel set refuses a command that does not exist on the server.
  mkdirSync(at(root, '/usr/bin'), { recursive: true });
  writeFileSync(at(root, '/usr/bin/notify'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await ok(['channel', 'set', 'notify', '--site', SITE, '--command', '/usr/bin/notify', '--arg', '{recipient}', '--arg=-q', '--root', root, '--no-reload', ...env.flatMap((e) => ['--env', e])]);
  return root;
}

const checksAt = (root: string): Check[] => runDoctor({ site: SITE }, nodeHost(root, {}), () => ({ ok: true })).checks;

function find(checks: Check[], id: string): Check {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** Run a `bridgectl …` fix in the sandbox: the words as the shell would split them, plus --root. */
async function runFix(root: string, fix: string | undefined): Promise<void> {
  const words = shellWords(fix ?? '').map((w) => (w.startsWith("'") && w.endsWith("'") ? w.slice(1, -1) : w));
  expect(words[0]).toBe('bridgectl');
  await ok([...words.slice(1), '--root', root, ...(words[1] === 'channel' ? ['--no-reload'] : [])]);
}

describe("web-user.home: a warning only where the web user's HOME can matter", () => {
  it('is ok on stock Debian (/var/www root-owned) when every channel pins HOME', async () => {
    const root = await kimaki();
    const home = find(checksAt(root), 'web-user.home');
    expect(home.status).toBe('ok');
    expect(home.message).toContain('no installed channel writes there');
    const r = await runMain(['doctor', '--site', SITE, '--root', root]);
    expect(r.stdout).not.toMatch(/WARN +web-user\.home/);
  });

  it('warns when a custom channel does not pin HOME, with a fix that pins one; applied, both warnings go', async () => {
    const root = await custom();
    const checks = checksAt(root);
    const home = find(checks, 'web-user.home');
    expect(home.status).toBe('warn');
    expect(home.fix).toMatch(/^install -d -o 'www-data' -g 'www-data' -m 0700 \/srv\/notify-home && bridgectl channel set 'notify' /);
    expect(find(checks, 'channel.notify.home').fix).toBe(home.fix);
    const set = home.fix?.split(' && ')[1];
    await runFix(root, set);
    const after = checksAt(root);
    expect(find(after, 'web-user.home').status).toBe('ok');
    expect(find(after, 'channel.notify.home')).toMatchObject({ status: 'ok', message: 'HOME is pinned to /srv/notify-home' });
  });
});

describe('transport.exists: its fix is a command that writes the transport again', () => {
  it('a bridge installed: bridgectl upgrade', async () => {
    const root = await kimaki();
    rmSync(at(root, TRANSPORT));
    const t = find(checksAt(root), 'transport.exists');
    expect(t).toMatchObject({ status: 'warn', fix: `bridgectl upgrade --site '${SITE}'` });
    await runFix(root, t.fix);
    expect(existsSync(at(root, TRANSPORT))).toBe(true);
    expect(find(checksAt(root), 'transport.exists').status).toBe('ok');
  });

  it('custom channels only: the channel set that writes the channel as it is', async () => {
    const root = await custom(undefined, ['HOME=/tmp']);
    rmSync(at(root, TRANSPORT));
    const t = find(checksAt(root), 'transport.exists');
    expect(t.fix).toBe(`bridgectl channel set 'notify' --site '${SITE}' --command '/usr/bin/notify' '--arg={recipient}' '--arg=-q' --env 'HOME=/tmp' --timeout 600`);
    await runFix(root, t.fix);
    expect(find(checksAt(root), 'transport.exists').status).toBe('ok');
    expect((await runMain(['channel', 'list', '--site', SITE, '--root', root, '--json'])).stdout).toContain('"-q"');
  });
});

describe('a block not in the shape bridgectl renders', () => {
  it('a custom one: its fix is the channel remove and set that rewrite it; applied, the warning goes', async () => {
    const root = await custom(undefined, ['HOME=/tmp']);
    const text = readFileSync(at(root, CHANNELS), 'utf8');
    const broken = text.replace(/^(\s*)'detach'.*\n/m, '');
    expect(broken).not.toBe(text);
    writeFileSync(at(root, CHANNELS), broken);
    const block = find(checksAt(root), 'channel.notify.block');
    expect(block.status).toBe('warn');
    expect(block.fix).toBe(`bridgectl channel remove 'notify' --site '${SITE}' && bridgectl channel set 'notify' --site '${SITE}' --command /path/to/the/command`);
    // The operator puts in the real command; this server has one there.
    mkdirSync(at(root, '/path/to/the'), { recursive: true });
    writeFileSync(at(root, '/path/to/the/command'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    for (const step of (block.fix ?? '').split(' && ')) await runFix(root, step);
    expect(checksAt(root).some((c) => c.id === 'channel.notify.block')).toBe(false);
  });
});

describe('no channels installed', () => {
  it('after uninstall: exit 1, "no channels installed", and no warning about the transport or HOME', async () => {
    const root = await kimaki();
    await ok(['uninstall', '--bridge', 'kimaki', '--site', SITE, '--root', root]);
    const r = await runMain(['doctor', '--site', SITE, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no channels installed/);
    expect(r.stdout).not.toMatch(/nothing stops a dispatch/);
    expect(r.stdout).not.toMatch(/WARN/);
    const json = JSON.parse((await runMain(['doctor', '--site', SITE, '--root', root, '--json'])).stdout) as { exitCode: number; checks: Check[] };
    expect(json.exitCode).toBe(1);
    expect(json.checks.some((c) => c.id === 'transport.exists')).toBe(false);
    const quiet = await runMain(['doctor', '--site', SITE, '--root', root, '--quiet']);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toMatch(/no channels installed/);
  });

  it('no channels file at all: the same summary', async () => {
    const r = await runMain(['doctor', '--site', SITE, '--root', serverSandbox(POOL)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/: no channels installed, so WP-cron has nothing to dispatch\n$/);
  });
});

describe('wrapping', () => {
  async function doctorText(root: string, tty?: { columns: number }): Promise<string> {
    let out = '';
    await main(['doctor', '--site', SITE, '--root', root], { stdout: (t) => (out += t), stderr: () => undefined, env: { NO_COLOR: '1' }, ...(tty ? { isTTY: true, columns: tty.columns } : {}) });
    return out;
  }
  /** Lines longer than the width, but for a single word that is longer on its own (a path is never broken). */
  const tooLong = (text: string, width: number): string[] => text.split('\n').filter((l) => l.length > width && l.trim().includes(' ') && l.trim().split(' ').every((w) => w.length < width - 12));

  it('at most 100 columns when stdout is not a terminal, the terminal width when it is', async () => {
    const root = await custom();
    rmSync(at(root, TRANSPORT));
    const plain = await doctorText(root);
    expect(Math.max(...plain.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(plain.split('\n').length).toBeGreaterThan(checksAt(root).length + 2); // something was wrapped
    const narrow = await doctorText(root, { columns: 60 });
    expect(tooLong(narrow, 60)).toEqual([]);
    expect(narrow).not.toBe(plain);
    // A wrapped fix is still one command to the shell: its broken lines end in a backslash.
    expect(narrow).toMatch(/ \\\n +--/);
  });

  it('--json is not wrapped', async () => {
    const root = await custom();
    const doc = JSON.parse((await runMain(['doctor', '--site', SITE, '--root', root, '--json'])).stdout) as { checks: Check[] };
    expect(doc.checks.every((c) => !c.message.includes('\n') && !(c.fix ?? '').includes('\n'))).toBe(true);
  });
});
