/**
 * doctor against sandbox roots that reproduce each failure it detects. CI
 * runs as root: ownership is made with chown, and access is decided from the
 * stat bits as the web user would meet them (doctor never calls access(2)).
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { renderChannelBody, renderScaffold } from '../../installer/render/channel.js';
import { type ChannelSpec } from '../../installer/model/channel.js';
import { runDoctor } from '../../installer/cli/commands/doctor.js';
import type { LintResult } from '../../installer/doctor/doctor.js';
import type { Check } from '../../installer/model/doctor.js';
import { nodeHost } from '../../installer/facts/host.js';
import { type Facts } from '../../installer/model/facts.js';
import { spliceBlocks } from '../../installer/render/markers.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { runnerOf } from '../../installer/process/run.js';
import { runMain } from '../helpers/cli.js';
import { at, CHANNELS, GROUP, isRoot, PASSWD, serverSandbox, SITE, SVC_GID, SVC_UID, type Tree } from '../helpers/sandbox.js';

const rootIt = isRoot ? it : it.skip;
const HOP = hopPaths('kimaki');
const hasPhp = spawnSync('php', ['-v']).status === 0;
const WWW = 33;
const TRANSPORT = `${SITE}/wp-content/mu-plugins/wp-coding-agents-cli-transport.php`;
const POOL = { 'etc/php/8.2/fpm/pool.d/www.conf': '[www]\nuser = www-data\ngroup = www-data\n' };

async function installed(extra: Tree = {}, flags: string[] = []): Promise<string> {
  const root = serverSandbox({ ...POOL, [TRANSPORT.slice(1)]: { content: '<?php\n// transport\n', mode: 0o644 }, ...extra });
  const r = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, ...flags]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return root;
}

function diagnoseAt(root: string, webUser?: string, lint: (file: string) => LintResult | 'unavailable' = () => ({ ok: true })): Check[] {
  return runDoctor({ site: SITE, ...(webUser ? { webUser } : {}) }, nodeHost(root, {}), lint).checks;
}

function find(checks: Check[], id: string): Check {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return found;
}

/**
 * Run the chgrp/chmod/chown/install/find commands of one alternative of a
 * fix line inside the sandbox root: absolute paths (bare, or single-quoted
 * words: lib/shell.ts) get the root prefixed, the service user's name becomes its
 * uid (it exists only in the sandbox).
 */
function applyFix(root: string, fix: string | undefined, alternative = -1): void {
  const alternatives = (fix ?? '').split('; or ');
  const chosen = alternatives.at(alternative) ?? '';
  const command = /(?:^|: )((?:chgrp|chmod|chown|install|find) .*)$/.exec(chosen)?.[1];
  if (!command) throw new Error(`no command in fix: ${fix}`);
  expect(command).not.toMatch(/\bo\+x\b/);
  const local = command
    .replace(/(^|\s)'?(\/[^\s']*)'?/g, (_m, sp: string, p: string) => `${sp}'${at(root, p)}'`)
    .replace(/'?opencode'?:'?opencode'?/g, `${SVC_UID}:${SVC_GID}`)
    .replace(/(-o |chown )'?opencode'?(?=\s)/g, `$1${SVC_UID}`);
  const r = spawnSync('bash', ['-c', local], { encoding: 'utf8' });
  expect([command, r.status, r.stderr]).toEqual([command, 0, '']);
}

const failures = (checks: Check[]): string[] => checks.filter((c) => c.status === 'fail').map((c) => c.id);

function editChannels(root: string, change: (text: string) => string): void {
  const text = readFileSync(at(root, CHANNELS), 'utf8');
  const next = change(text);
  expect(next).not.toBe(text);
  writeFileSync(at(root, CHANNELS), next);
}

/** A channels file holding exactly these channels; extra lines go inside a block before its closing `];`. */
function writeChannels(root: string, specs: ChannelSpec[], extra: Record<string, string[]> = {}): void {
  const blocks = specs.map((spec) => {
    const body = renderChannelBody(spec);
    body.splice(body.length - 1, 0, ...(extra[spec.name] ?? []));
    return { id: spec.name, body };
  });
  mkdirSync(path.dirname(at(root, CHANNELS)), { recursive: true });
  writeFileSync(at(root, CHANNELS), spliceBlocks(renderScaffold(), blocks));
}

const kimakiSpec = (env: [string, string][], command = '/usr/local/bin/kimaki'): ChannelSpec => ({
  name: 'kimaki',
  command,
  args: ['send', '--channel', '{recipient}', '--prompt', '{message}'],
  detach: true,
  timeout: 600,
  env,
});

/**
 * The healthy direct layout: /home/opencode (kimaki's cwd: the transport runs
 * it in the pinned HOME) and the data dir group-owned by www-data.
 */
function makeHealthy(root: string): void {
  chownSync(at(root, '/home/opencode'), SVC_UID, WWW);
  chmodSync(at(root, '/home/opencode'), 0o2770);
  chownSync(at(root, '/home/opencode/.kimaki'), SVC_UID, WWW);
  chmodSync(at(root, '/home/opencode/.kimaki'), 0o2770);
}

describe("the seed's bug: HOME not pinned, the web user's HOME unwritable", () => {
  rootIt('fails with the fix `bridgectl upgrade` when the unit pins HOME and the block does not', async () => {
    const root = await installed();
    editChannels(root, (t) => t.replace(/^ {8}'env' {5}=> .*\n/m, '')); // the pre-fix four-key block
    const checks = diagnoseAt(root);
    const home = find(checks, 'channel.kimaki.home');
    expect(home.status).toBe('fail');
    expect(home.message).toContain("under WP-cron kimaki inherits www-data's HOME /var/www and must create /var/www/.kimaki");
    expect(home.message).toContain('/var/www (owner root:root, mode 0755) is not writable by www-data');
    expect(home.message).toContain('EACCES (exit 64)');
    expect(home.fix).toMatch(/^bridgectl upgrade --site \/var\/www\/html\b/);
    const unit = find(checks, 'channel.kimaki.unit-env');
    expect(unit.status).toBe('fail');
    expect(unit.message).toContain('HOME: unit /home/opencode, block not pinned');
    expect(unit.message).toContain('KIMAKI_DATA_DIR: unit /home/opencode/.kimaki, block not pinned');
    expect(unit.fix).toBe(`bridgectl upgrade --site ${SITE}`);
    expect(find(checks, 'web-user.home').status).toBe('warn');
    expect(checks.some((c) => c.id === 'channel.kimaki.data-dir')).toBe(false); // nothing pinned: the home check speaks

    const r = await runMain(['doctor', '--site', SITE, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}channel\.kimaki\.home /m);
    expect(r.stdout).toMatch(/fix: bridgectl upgrade --site \/var\/www\/html/);
  });

  rootIt('reads the unit as systemd does: a WorkingDirectory= ending in a backslash swallows Environment=HOME (#17 item 5)', async () => {
    const root = await installed();
    const unitFile = at(root, '/etc/systemd/system/kimaki.service');
    const text = readFileSync(unitFile, 'utf8');
    const swallowed = text.replace(/^WorkingDirectory=.*$/m, 'WorkingDirectory=/var/www/html\\');
    expect(swallowed).toMatch(/^WorkingDirectory=\/var\/www\/html\\\nEnvironment=HOME=/m);
    writeFileSync(unitFile, swallowed);
    const unit = find(diagnoseAt(root), 'channel.kimaki.unit-env');
    expect(unit.status).toBe('fail');
    expect(unit.message).toContain('HOME: unit not pinned, block /home/opencode');
  });

  rootIt('after `bridgectl upgrade` the seed is fixed, and the bug right after it shows', async () => {
    const root = await installed();
    editChannels(root, (t) => t.replace(/^ {8}'env' {5}=> .*\n/m, ''));
    expect((await runMain(['upgrade', '--site', SITE, '--root', root])).code).toBe(0);
    const checks = diagnoseAt(root);
    expect(find(checks, 'channel.kimaki.home').status).toBe('ok');
    expect(find(checks, 'channel.kimaki.unit-env').status).toBe('ok');
    expect(failures(checks)).toEqual(['channel.kimaki.data-dir', 'channel.kimaki.cwd']);
    // /home/opencode is 0750: the transport skips a HOME it cannot enter (PHP's chdir would fail silently), so the site root decides.
    const cwd = find(checks, 'channel.kimaki.cwd');
    expect(cwd.message).toContain(
      "www-data cannot write /var/www/html (PHP's working directory, for WP-cron over HTTP usually the site root: www-data cannot enter /home/opencode (the pinned HOME, where the transport runs it), so the transport leaves the CLI there)",
    );
    expect(cwd.fix).toMatch(/; or chgrp 'www-data' '\/home\/opencode' && chmod g\+rwx '\/home\/opencode'$/);
  });

  rootIt('only warns for a custom channel, whose CLI may not write under HOME', async () => {
    const root = await installed({ 'usr/local/bin/notify': { content: '#!/bin/sh\n', mode: 0o755 } });
    makeHealthy(root);
    writeChannels(root, [kimakiSpec([['HOME', '/home/opencode'], ['KIMAKI_DATA_DIR', '/home/opencode/.kimaki']]), { ...kimakiSpec([], '/usr/local/bin/notify'), name: 'notify' }]);
    const checks = diagnoseAt(root);
    const home = find(checks, 'channel.notify.home');
    expect(home.status).toBe('warn');
    expect(home.message).toContain("www-data's HOME /var/www");
    expect(failures(checks)).toEqual([]);
  });
});

describe('the bug right after the seed: a pinned data dir the web user cannot write', () => {
  rootIt('fails naming the dispatch user, the path, its owner and mode, and both ways out', async () => {
    const root = await installed(); // /home/opencode 0750 opencode:opencode, .kimaki 0700
    const dataDir = find(diagnoseAt(root), 'channel.kimaki.data-dir');
    expect(dataDir.status).toBe('fail');
    expect(dataDir.message).toContain("www-data cannot write kimaki's data dir /home/opencode/.kimaki (pinned by KIMAKI_DATA_DIR; owner opencode:opencode, mode 0700)");
    expect(dataDir.message).toContain('/home/opencode (owner opencode:opencode, mode 0750) is not searchable by www-data');
    expect(dataDir.message).toContain('EACCES (exit 64)');
    expect(dataDir.fix).toContain(`either dispatch through the sudo hop: bridgectl upgrade --site '${SITE}' --dispatch sudo; or grant`);
    expect(dataDir.fix).toContain(
      "or grant www-data's group write access: chgrp 'www-data' '/home/opencode' && chmod g+x '/home/opencode' && chgrp -R 'www-data' '/home/opencode/.kimaki' && chmod -R g+rwX '/home/opencode/.kimaki' && find '/home/opencode/.kimaki' -type d -exec chmod g+s {} +",
    );
    expect(dataDir.fix).not.toContain('o+x');
  });

  rootIt('#16.3: the group grant covers the files already in the data dir, in one pass; a system directory is never touched', async () => {
    const root = await installed();
    const db = at(root, '/home/opencode/.kimaki/discord-sessions.db');
    writeFileSync(db, '');
    chownSync(db, SVC_UID, SVC_GID);
    chmodSync(db, 0o600);
    chmodSync(at(root, '/home/opencode/.kimaki'), 0o700);
    applyFix(root, find(diagnoseAt(root), 'channel.kimaki.data-dir').fix);
    let checks = diagnoseAt(root);
    expect(checks.filter((c) => c.id.startsWith('channel.kimaki.data-dir')).map((c) => c.status)).toEqual(['ok']);
    applyFix(root, find(checks, 'channel.kimaki.cwd').fix);
    checks = diagnoseAt(root);
    expect(failures(checks)).toEqual([]);
    // A data dir under a system directory the web user cannot search: move it, leave /srv alone.
    mkdirSync(at(root, '/srv/kimaki'), { recursive: true });
    chmodSync(at(root, '/srv'), 0o700);
    writeChannels(root, [kimakiSpec([['HOME', '/home/opencode'], ['KIMAKI_DATA_DIR', '/srv/kimaki']])]);
    const fix = find(diagnoseAt(root), 'channel.kimaki.data-dir').fix ?? '';
    expect(fix).toContain('move the data dir out from under /srv');
    expect(fix).not.toMatch(/(chmod|chgrp|chown)( -R)? [^&;]* \/srv( |$)/);
  });

  rootIt('recommends a command that switches exactly that: run as given, the data dir failure is gone and nothing else appears', async () => {
    const root = await installed(POOL, ['--init', 'none']);
    const fix = find(diagnoseAt(root), 'channel.kimaki.data-dir').fix ?? '';
    const command = /the sudo hop: (bridgectl [^;]+);/.exec(fix)?.[1] ?? '';
    expect(command).toBe(`bridgectl upgrade --site '${SITE}' --dispatch sudo`);
    // As sh would split it (no word here holds a space or a quote).
    const r = await runMain([...command.split(' ').slice(1).map((w) => w.replace(/^'(.*)'$/, '$1')), '--root', root, '--json']);
    expect(r.code).toBe(0);
    // upgrade switches the dispatch only: no service definition appears for a bridge installed without one.
    const doc = JSON.parse(r.stdout) as { files: { path: string; status: string }[] };
    expect(doc.files.filter((f) => f.status !== 'unchanged').map((f) => [f.path, f.status])).toEqual([
      [HOP.sudoers, 'create'],
      [HOP.target, 'create'],
      [HOP.wrapper, 'create'],
      [CHANNELS, 'update'],
    ]);
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual([]);
    expect(checks.some((c) => c.id === 'channel.kimaki.data-dir')).toBe(false);
    expect(find(checks, 'channel.kimaki.sudo.channel').status).toBe('ok');
  });

  rootIt('names the web user in that command when doctor was told it', async () => {
    const root = await installed();
    const dataDir = find(diagnoseAt(root, 'www-data'), 'channel.kimaki.data-dir');
    expect(dataDir.fix).toContain(`bridgectl upgrade --site '${SITE}' --dispatch sudo --web-user 'www-data';`);
  });

  rootIt('names the data dir itself when only it is closed', async () => {
    const root = await installed();
    chmodSync(at(root, '/home/opencode'), 0o755);
    const dataDir = find(diagnoseAt(root), 'channel.kimaki.data-dir');
    expect(dataDir.status).toBe('fail');
    expect(dataDir.message).toContain('/home/opencode/.kimaki (owner opencode:opencode, mode 0700) is not writable by www-data');
    expect(dataDir.fix).not.toContain('chmod o+x');
  });

  rootIt('decides a missing data dir on its nearest existing ancestor', async () => {
    const root = await installed();
    makeHealthy(root);
    writeChannels(root, [kimakiSpec([['HOME', '/home/opencode'], ['KIMAKI_DATA_DIR', '/srv/kimaki/data']])]);
    mkdirSync(at(root, '/srv'));
    let dataDir = find(diagnoseAt(root), 'channel.kimaki.data-dir');
    expect(dataDir.status).toBe('fail');
    expect(dataDir.message).toContain('cannot create');
    expect(dataDir.message).toContain('/srv (owner root:root, mode 0755) is not writable by www-data');
    expect(dataDir.fix).toContain("install -d -o 'root' -g 'www-data' -m 2770 '/srv/kimaki/data'");
    chownSync(at(root, '/srv'), 0, WWW);
    chmodSync(at(root, '/srv'), 0o775);
    dataDir = find(diagnoseAt(root), 'channel.kimaki.data-dir');
    expect(dataDir).toMatchObject({ status: 'ok', message: expect.stringContaining('does not exist yet; www-data can create it in /srv') });
  });

  rootIt('a pinned HOME without KIMAKI_DATA_DIR is where kimaki keeps state', async () => {
    const root = await installed();
    writeChannels(root, [kimakiSpec([['HOME', '/home/opencode']])]);
    const dataDir = find(diagnoseAt(root), 'channel.kimaki.data-dir');
    expect(dataDir.status).toBe('fail');
    expect(dataDir.message).toContain('/home/opencode/.kimaki (under the pinned HOME;');
  });

  rootIt('#16.3: fails for files in a writable data dir the web user cannot write, nested ones too; the fix clears them all', async () => {
    const root = await installed();
    makeHealthy(root);
    writeFileSync(at(root, '/home/opencode/.kimaki/discord-sessions.db'), '');
    chownSync(at(root, '/home/opencode/.kimaki/discord-sessions.db'), SVC_UID, SVC_GID);
    chmodSync(at(root, '/home/opencode/.kimaki/discord-sessions.db'), 0o600);
    mkdirSync(at(root, '/home/opencode/.kimaki/logs'));
    chownSync(at(root, '/home/opencode/.kimaki/logs'), SVC_UID, WWW);
    chmodSync(at(root, '/home/opencode/.kimaki/logs'), 0o2770);
    writeFileSync(at(root, '/home/opencode/.kimaki/logs/kimaki.log'), '');
    chownSync(at(root, '/home/opencode/.kimaki/logs/kimaki.log'), SVC_UID, WWW);
    chmodSync(at(root, '/home/opencode/.kimaki/logs/kimaki.log'), 0o644);
    const checks = diagnoseAt(root);
    const files = find(checks, 'channel.kimaki.data-dir-files');
    expect(files.status).toBe('fail');
    expect(files.message).toContain('not 2 entries in it: discord-sessions.db, logs/kimaki.log');
    expect(failures(checks)).toEqual(['channel.kimaki.data-dir-files']);
    applyFix(root, files.fix);
    expect(failures(diagnoseAt(root))).toEqual([]);
  });
});

describe('a healthy site', () => {
  rootIt('data dir group-writable by the web user\'s group, binary reachable: exit 0', async () => {
    const root = await installed();
    makeHealthy(root);
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual([]);
    expect(find(checks, 'channel.kimaki.data-dir').status).toBe('ok');
    expect(find(checks, 'channel.kimaki.command')).toMatchObject({ status: 'ok', message: 'www-data can run /usr/local/bin/kimaki' });
    expect(find(checks, 'channels.readable').status).toBe('ok');
    expect(find(checks, 'transport.readable').status).toBe('ok');
    expect(find(checks, 'channel.kimaki.unit-env').status).toBe('ok');
    expect(find(checks, 'web-user').message).toContain('from the PHP-FPM pool /etc/php/8.2/fpm/pool.d/www.conf');
    const r = await runMain(['doctor', '--site', SITE, '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing stops a dispatch from WP-cron as www-data\n$/);
    const quiet = await runMain(['doctor', '--site', SITE, '--root', root, '--quiet']);
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('managed files', () => {
  it('fails when the channels file is missing', async () => {
    const root = serverSandbox(POOL);
    const checks = diagnoseAt(root);
    expect(find(checks, 'channels.exists')).toMatchObject({ status: 'fail', fix: `bridgectl install --bridge <id> --site ${SITE}` });
    expect((await runMain(['doctor', '--site', SITE, '--root', root])).code).toBe(1);
  });

  it('fails on damaged markers, naming the line, and checks no channel', async () => {
    const root = await installed();
    editChannels(root, (t) => t.replace('    // END bridge:kimaki\n', ''));
    const checks = diagnoseAt(root);
    const markers = find(checks, 'channels.markers');
    expect(markers.status).toBe('fail');
    expect(markers.message).toMatch(new RegExp(`${CHANNELS}:\\d+: '// BEGIN bridge:kimaki' has no matching END`));
    expect(checks.some((c) => c.id.startsWith('channel.'))).toBe(false);
  });

  it('fails when php -l rejects a file, warns when there is no php', async () => {
    const root = await installed();
    const broken = diagnoseAt(root, undefined, (file) => (file.endsWith('channels.php') ? { ok: false, output: 'PHP Parse error:  syntax error, unexpected end of file in x on line 3\nErrors parsing x\n' } : { ok: true }));
    expect(find(broken, 'channels.php-lint')).toMatchObject({ status: 'fail', message: expect.stringContaining('PHP Parse error:  syntax error, unexpected end of file') });
    expect(find(broken, 'transport.php-lint').status).toBe('ok');
    const noPhp = diagnoseAt(root, undefined, () => 'unavailable');
    expect(find(noPhp, 'channels.php-lint').status).toBe('warn');
  });

  (hasPhp ? it : it.skip)('lints with the real php', async () => {
    const root = await installed();
    editChannels(root, (t) => t.replace('return $channels;', 'return $channels'));
    const r = await runMain(['doctor', '--site', SITE, '--root', root, '--json']);
    const doc = JSON.parse(r.stdout) as { checks: Check[] };
    expect(find(doc.checks, 'channels.php-lint').status).toBe('fail');
    expect(find(doc.checks, 'transport.php-lint').status).toBe('ok');
  });

  rootIt('fails when the web user cannot read the channels file', async () => {
    const root = await installed();
    chmodSync(at(root, CHANNELS), 0o600);
    expect(find(diagnoseAt(root), 'channels.readable')).toMatchObject({ status: 'fail', fix: `chmod 0644 '${CHANNELS}'` });
  });

  it('warns when the transport is not installed', async () => {
    const root = await installed();
    rmSync(at(root, TRANSPORT));
    expect(find(diagnoseAt(root), 'transport.exists').status).toBe('warn');
  });
});

describe('the channel command', () => {
  rootIt('fails for a binary under /root: PHP-FPM cannot reach it', async () => {
    const root = await installed({ 'root/.kimaki/bin/kimaki': { content: '#!/bin/sh\n', mode: 0o755 } }, ['--binary', '/root/.kimaki/bin/kimaki']);
    chmodSync(at(root, '/root'), 0o700);
    const command = find(diagnoseAt(root), 'channel.kimaki.command');
    expect(command.status).toBe('fail');
    expect(command.message).toContain('www-data cannot run /root/.kimaki/bin/kimaki: /root (owner root:root, mode 0700) is not searchable by www-data');
    expect(command.fix).toContain('bridgectl upgrade --site /var/www/html --binary /usr/local/bin/kimaki');
  });

  rootIt('follows a symlinked binary: a link into /root is as unreachable as the file', async () => {
    const root = await installed({ 'root/.bun/bin/kimaki': { content: '#!/bin/sh\n', mode: 0o755 } });
    chmodSync(at(root, '/root'), 0o700);
    rmSync(at(root, '/usr/local/bin/kimaki'));
    symlinkSync('/root/.bun/bin/kimaki', at(root, '/usr/local/bin/kimaki')); // absolute: a server path
    const command = find(diagnoseAt(root), 'channel.kimaki.command');
    expect(command.status).toBe('fail');
    expect(command.message).toContain('/root (owner root:root, mode 0700) is not searchable by www-data (the path resolves to /root/.bun/bin/kimaki)');
  });

  rootIt('follows a relative npm-global link into a reachable package dir', async () => {
    const root = await installed({ 'usr/local/lib/node_modules/kimaki/bin/kimaki.js': { content: '#!/usr/bin/env node\n', mode: 0o755 } });
    rmSync(at(root, '/usr/local/bin/kimaki'));
    symlinkSync('../lib/node_modules/kimaki/bin/kimaki.js', at(root, '/usr/local/bin/kimaki'));
    expect(find(diagnoseAt(root), 'channel.kimaki.command')).toMatchObject({ status: 'ok', message: 'www-data can run /usr/local/bin/kimaki' });
    chmodSync(at(root, '/usr/local/lib/node_modules/kimaki/bin/kimaki.js'), 0o700);
    expect(find(diagnoseAt(root), 'channel.kimaki.command')).toMatchObject({ status: 'fail', fix: "chmod a+x '/usr/local/bin/kimaki'" });
  });

  rootIt('fails for a binary without x for the web user, and a missing one', async () => {
    const root = await installed();
    chmodSync(at(root, '/usr/local/bin/kimaki'), 0o744);
    expect(find(diagnoseAt(root), 'channel.kimaki.command')).toMatchObject({ status: 'fail', fix: "chmod a+x '/usr/local/bin/kimaki'" });
    rmSync(at(root, '/usr/local/bin/kimaki'));
    expect(find(diagnoseAt(root), 'channel.kimaki.command')).toMatchObject({ status: 'fail', message: expect.stringContaining('does not exist') });
  });

  rootIt("a hand-rolled sudo script is not bridgectl's hop: the channel is judged as direct", async () => {
    const root = await installed({ 'usr/local/bin/kimaki-dispatch': { content: '#!/bin/sh\nexec sudo -n -H -u opencode /usr/local/lib/kimaki-target "$@"\n', mode: 0o755 } });
    writeChannels(root, [kimakiSpec([], '/usr/local/bin/kimaki-dispatch')]);
    const checks = diagnoseAt(root);
    expect(find(checks, 'channel.kimaki.home').status).toBe('fail');
    expect(checks.some((c) => c.id.startsWith('channel.kimaki.sudo.'))).toBe(false);
  });
});

describe('sudo dispatch mode: doctor checks the hop instead of the web user\'s reach', () => {
  const sudoInstalled = (extra: Tree = {}, flags: string[] = []): Promise<string> => installed(extra, ['--init', 'none', '--dispatch', 'sudo', ...flags]);
  const sudoChecks = (checks: Check[]): Check[] => checks.filter((c) => c.id.startsWith('channel.kimaki.sudo.'));

  rootIt('a healthy hop: no check fails, the probes that need the live host say they were skipped', async () => {
    const root = await sudoInstalled(); // the data dir stays 0700, private to opencode
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual([]);
    expect(sudoChecks(checks).map((c) => [c.id, c.status])).toEqual([
      ['channel.kimaki.sudo.channel', 'ok'],
      ['channel.kimaki.sudo.web-user', 'ok'],
      ['channel.kimaki.sudo.binary', 'ok'],
      ['channel.kimaki.sudo.version', 'ok'],
      ['channel.kimaki.sudo.sudoers', 'ok'],
      ['channel.kimaki.sudo.target', 'ok'],
      ['channel.kimaki.sudo.wrapper', 'ok'],
      ['channel.kimaki.sudo.dirs', 'ok'],
      ['channel.kimaki.sudo.cli', 'ok'],
      ['channel.kimaki.sudo.visudo', 'ok'],
      ['channel.kimaki.sudo.grant.www-data', 'ok'],
      ['channel.kimaki.sudo.data-dir', 'ok'],
      ['channel.kimaki.sudo.cwd', 'ok'],
    ]);
    expect(find(checks, 'channel.kimaki.sudo.grant.www-data').message).toBe(`skipped: not on the live host (--root ${root}): the grant was not tried`);
    expect(find(checks, 'channel.kimaki.sudo.version').message).toMatch(/^skipped: /);
    expect(find(checks, 'channel.kimaki.sudo.data-dir').message).toBe('opencode can write its data dir /home/opencode/.kimaki');
    expect(find(checks, 'channel.kimaki.sudo.cwd').message).toBe('opencode can write its home /home/opencode, where the target runs kimaki (it writes ./tmp there)');
    expect(find(checks, 'channel.kimaki.command')).toMatchObject({ status: 'ok', message: `www-data can run ${HOP.wrapper}` });
    // The web user's reach to HOME and the data dir no longer matters.
    for (const id of ['home', 'data-dir', 'cwd']) expect(checks.some((c) => c.id === `channel.kimaki.${id}`)).toBe(false);
    const r = await runMain(['doctor', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('channel.kimaki.sudo.sudoers');
  });

  rootIt('a hand-widened drop-in (<target> *) fails, naming the file, with a runnable fix', async () => {
    const root = await sudoInstalled();
    const sudoers = readFileSync(at(root, HOP.sudoers), 'utf8');
    chmodSync(at(root, HOP.sudoers), 0o640);
    writeFileSync(at(root, HOP.sudoers), sudoers.replace(/NOPASSWD: .*$/m, `NOPASSWD: ${HOP.target} *`));
    chmodSync(at(root, HOP.sudoers), 0o440);
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual(['channel.kimaki.sudo.sudoers']);
    expect(find(checks, 'channel.kimaki.sudo.sudoers')).toEqual({
      id: 'channel.kimaki.sudo.sudoers',
      status: 'fail',
      message: `${HOP.sudoers}: its content differs from what bridgectl writes`,
      fix: `bridgectl upgrade --site ${SITE} (it rewrites the file byte for byte)`,
    });
    // The fix, run as given, narrows the grant again, in bridgectl's own form (a hand-widened grant does not decide it: #17 item 13).
    expect((await runMain(['upgrade', '--site', SITE, '--root', root])).code).toBe(0);
    expect(readFileSync(at(root, HOP.sudoers), 'utf8')).toContain(`NOPASSWD: ${HOP.target} ^send [0-9]+$\n`);
    expect(failures(diagnoseAt(root))).toEqual([]);
  });

  rootIt('a wrong mode or owner on a hop file fails', async () => {
    const root = await sudoInstalled();
    chmodSync(at(root, HOP.wrapper), 0o775);
    chownSync(at(root, HOP.target), SVC_UID, SVC_GID);
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual(['channel.kimaki.sudo.target', 'channel.kimaki.sudo.wrapper']);
    expect(find(checks, 'channel.kimaki.sudo.wrapper').message).toBe(`${HOP.wrapper}: mode 0775, want 0755`);
    expect(find(checks, 'channel.kimaki.sudo.target').message).toBe(`${HOP.target}: owner ${SVC_UID}:${SVC_GID}, want 0:0`);
  });

  rootIt('a missing hop file, a channel that bypasses the wrapper, and a web user the grant does not name each fail', async () => {
    const root = await sudoInstalled();
    rmSync(at(root, HOP.target));
    writeChannels(root, [kimakiSpec([['HOME', '/home/opencode'], ['KIMAKI_DATA_DIR', '/home/opencode/.kimaki']])]);
    const checks = diagnoseAt(root, 'ghost');
    expect(find(checks, 'channel.kimaki.sudo.target')).toMatchObject({ status: 'fail', message: `${HOP.target} is missing`, fix: `bridgectl upgrade --site ${SITE}` });
    expect(find(checks, 'channel.kimaki.sudo.channel')).toMatchObject({
      status: 'fail',
      message: `the sudo hop is installed, but the channel runs /usr/local/bin/kimaki, not its wrapper ${HOP.wrapper}: dispatches run as the web user`,
    });
    expect(find(checks, 'channel.kimaki.sudo.web-user')).toMatchObject({
      status: 'fail',
      message: `the grant ${HOP.sudoers} is for www-data, not ghost: a dispatch from ghost exits 77 (sudo refused)`,
      fix: `bridgectl upgrade --site ${SITE} --web-user 'www-data' --web-user 'ghost'`,
    });
  });

  rootIt('the service user must be able to write its data dir, where the target runs the CLI', async () => {
    const root = await sudoInstalled();
    chownSync(at(root, '/home/opencode/.kimaki'), 0, 0);
    const dataDir = find(diagnoseAt(root), 'channel.kimaki.sudo.data-dir');
    expect(dataDir.status).toBe('fail');
    expect(dataDir.message).toContain('opencode cannot write its data dir /home/opencode/.kimaki: /home/opencode/.kimaki (owner root:root, mode 0700) is not writable by opencode — the target exits 73');
    expect(dataDir.fix).toBe("chown -R 'opencode':'opencode' '/home/opencode/.kimaki' && chmod -R u+rwX '/home/opencode/.kimaki'");
  });

  rootIt('#16.3: sudo after direct: web-user-owned 0644 files in the data dir fail, and the fix gives them back to the service user', async () => {
    const root = await sudoInstalled();
    // What direct mode's group grant and php-fpm's umask 022 leave behind.
    chownSync(at(root, '/home/opencode/.kimaki'), SVC_UID, WWW);
    chmodSync(at(root, '/home/opencode/.kimaki'), 0o2770);
    writeFileSync(at(root, '/home/opencode/.kimaki/discord-sessions.db'), '');
    chownSync(at(root, '/home/opencode/.kimaki/discord-sessions.db'), WWW, WWW);
    chmodSync(at(root, '/home/opencode/.kimaki/discord-sessions.db'), 0o644);
    const checks = diagnoseAt(root);
    expect(find(checks, 'channel.kimaki.sudo.data-dir').status).toBe('ok');
    const files = find(checks, 'channel.kimaki.sudo.data-dir-files');
    expect(files).toMatchObject({ status: 'fail', message: expect.stringContaining('opencode can write /home/opencode/.kimaki but not 1 entry in it: discord-sessions.db') });
    expect(files.fix).toBe("give them back to the service user: chown -R 'opencode':'opencode' '/home/opencode/.kimaki' && chmod -R u+rwX '/home/opencode/.kimaki'");
    applyFix(root, files.fix);
    expect(failures(diagnoseAt(root))).toEqual([]);
  });

  rootIt('#16.2: the target runs the CLI in the service user\'s home: one it cannot write fails', async () => {
    const root = await sudoInstalled();
    expect(readFileSync(at(root, HOP.target), 'utf8')).toContain(`HOME_DIR='/home/opencode'\n`);
    expect(readFileSync(at(root, HOP.target), 'utf8')).toContain('cd "$HOME_DIR" || die 73');
    chownSync(at(root, '/home/opencode'), 0, 0);
    // The identity itself refuses such a home, so the hop's render names it first.
    const failed = diagnoseAt(root).filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['channel.kimaki.sudo.render']);
    expect(failed[0]?.message).toContain('home /home/opencode of service user \'opencode\' is not writable by it');
    applyFix(root, failed[0]?.fix);
    expect(failures(diagnoseAt(root))).toEqual([]);
  });

  rootIt('a drop-in visudo refuses fails', async () => {
    const root = await sudoInstalled();
    const checks = runDoctor({ site: SITE, run: runnerOf((file, args) => (file.endsWith('visudo') && args[0] === '-c' ? { status: 1, stdout: '', stderr: 'syntax error near line 2\n' } : { status: null, stdout: '', stderr: '', error: 'ENOENT' })) }, nodeHost(root, {}), () => ({ ok: true })).checks;
    expect(find(checks, 'channel.kimaki.sudo.visudo')).toMatchObject({ status: 'fail', message: `${HOP.sudoers} fails visudo -cf: syntax error near line 2` });
  });

  rootIt('not root: a drop-in doctor may not read is reported as not checked, and nothing else breaks', async () => {
    const root = await sudoInstalled();
    const host = nodeHost(root, {});
    const denying: Facts = {
      ...host,
      readText: (p) => {
        if (p.startsWith('/etc/sudoers.d/')) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES', path: p });
        return host.readText(p);
      },
    };
    const checks = runDoctor({ site: SITE }, denying, () => ({ ok: true })).checks;
    expect(failures(checks)).toEqual([]);
    expect(find(checks, 'channel.kimaki.command').status).toBe('ok');
    expect(sudoChecks(checks)).toEqual([
      { id: 'channel.kimaki.sudo.render', status: 'warn', message: `skipped: cannot read ${HOP.sudoers} (EACCES): the sudo hop was not checked`, fix: `sudo bridgectl doctor --site '${SITE}'` },
    ]);
  });

  rootIt('cc-connect: the daemon socket is judged as the service user', async () => {
    const root = serverSandbox({ ...POOL, 'usr/local/bin/cc-connect': { content: '#!/bin/sh\n', mode: 0o755 } });
    const r = await runMain(['install', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--dispatch', 'sudo', '--root', root]);
    expect(r.code).toBe(0);
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual([]);
    expect(find(checks, 'channel.cc-connect.sudo.wrapper').status).toBe('ok');
    expect(find(checks, 'channel.cc-connect.socket')).toMatchObject({ status: 'warn', message: expect.stringContaining('no daemon socket at /home/opencode/.cc-connect/run/api.sock (under the pinned HOME)') });
  });
});

describe("kimaki's working directory: 'cwd', else the pinned HOME, else PHP's (the site root)", () => {
  rootIt('#16.2: fails (not warns) when the pinned HOME, where the transport runs kimaki, is not writable; the fix makes it so', async () => {
    const root = await installed();
    makeHealthy(root);
    chownSync(at(root, '/home/opencode'), SVC_UID, SVC_GID);
    chmodSync(at(root, '/home/opencode'), 0o751);
    const checks = diagnoseAt(root);
    expect(failures(checks)).toEqual(['channel.kimaki.cwd']);
    const cwd = find(checks, 'channel.kimaki.cwd');
    expect(cwd.message).toContain('www-data cannot write /home/opencode (the pinned HOME, where the transport runs it): /home/opencode (owner opencode:opencode, mode 0751) is not writable by www-data');
    expect(cwd.message).toContain('writes ./tmp there and the send dies with EACCES (exit 64)');
    expect(cwd.fix).toBe(
      "dispatch through sudo, whose target runs kimaki as the service user in its home: bridgectl upgrade --site '/var/www/html' --dispatch sudo; " +
        "or chgrp 'www-data' '/home/opencode' && chmod g+rwx '/home/opencode'",
    );
    applyFix(root, cwd.fix);
    expect(failures(diagnoseAt(root))).toEqual([]);
    expect((await runMain(['doctor', '--site', SITE, '--root', root])).code).toBe(0);
  });

  rootIt("#16.2: with no HOME pinned, PHP's working directory (the site root) decides, and fails when unwritable", async () => {
    const root = await installed();
    makeHealthy(root);
    writeChannels(root, [kimakiSpec([['KIMAKI_DATA_DIR', '/home/opencode/.kimaki']])]);
    const cwd = find(diagnoseAt(root), 'channel.kimaki.cwd');
    expect(cwd).toMatchObject({ status: 'fail', message: expect.stringContaining("www-data cannot write /var/www/html (PHP's working directory, for WP-cron over HTTP usually the site root)") });
  });

  rootIt('fails for a pinned cwd the web user cannot write', async () => {
    const root = await installed();
    makeHealthy(root);
    const env: [string, string][] = [['HOME', '/home/opencode'], ['KIMAKI_DATA_DIR', '/home/opencode/.kimaki']];
    writeChannels(root, [kimakiSpec(env)], { kimaki: ["        'cwd'     => '/var/www/html',"] });
    expect(find(diagnoseAt(root), 'channel.kimaki.cwd')).toMatchObject({ status: 'fail', message: expect.stringContaining('/var/www/html (owner root:root, mode 0755) is not writable by www-data') });
    writeChannels(root, [kimakiSpec(env)], { kimaki: ["        'cwd'     => '/home/opencode/.kimaki',"] });
    expect(find(diagnoseAt(root), 'channel.kimaki.cwd').status).toBe('ok');
  });
});

describe('cc-connect: the daemon socket', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  const listen = (file: string): Promise<void> =>
    new Promise((resolve, reject) => {
      mkdirSync(path.dirname(file), { recursive: true });
      const server = createServer().listen(file, () => resolve());
      server.on('error', reject);
      servers.push(server);
    });
  const ccSpec = (args: string[], env: [string, string][]): ChannelSpec => ({ name: 'cc-connect', command: '/usr/local/bin/cc-connect', args, detach: false, timeout: 60, env });

  rootIt('is reachable only when the web user can search its directories and write the socket', async () => {
    const root = serverSandbox({ ...POOL, 'usr/local/bin/cc-connect': { content: '#!/bin/sh\n', mode: 0o755 } });
    writeChannels(root, [ccSpec(['send', '--data-dir', '/srv/cc', '--to', '{recipient}'], [])]);
    let socket = find(diagnoseAt(root), 'channel.cc-connect.socket');
    expect(socket).toMatchObject({ status: 'warn', message: expect.stringContaining('no daemon socket at /srv/cc/run/api.sock (from --data-dir)') });
    await listen(at(root, '/srv/cc/run/api.sock'));
    chmodSync(at(root, '/srv/cc/run/api.sock'), 0o755);
    socket = find(diagnoseAt(root), 'channel.cc-connect.socket');
    expect(socket.status).toBe('fail');
    expect(socket.message).toContain('/srv/cc/run/api.sock (owner root:root, mode 0755) is not writable by www-data');
    chmodSync(at(root, '/srv/cc/run/api.sock'), 0o777);
    chmodSync(at(root, '/srv/cc/run'), 0o700);
    socket = find(diagnoseAt(root), 'channel.cc-connect.socket');
    expect(socket).toMatchObject({ status: 'fail', fix: "chgrp 'www-data' '/srv/cc/run' && chmod g+x '/srv/cc/run'" });
    chmodSync(at(root, '/srv/cc/run'), 0o755);
    expect(find(diagnoseAt(root), 'channel.cc-connect.socket')).toMatchObject({ status: 'ok', message: 'www-data can connect to /srv/cc/run/api.sock' });
  });

  rootIt('#16.9: the directories and the socket in one fix: applied once, the socket is reachable', async () => {
    const root = serverSandbox({ ...POOL, 'usr/local/bin/cc-connect': { content: '#!/bin/sh\n', mode: 0o755 } });
    writeChannels(root, [ccSpec(['send', '--data-dir', '/srv/cc', '--to', '{recipient}'], [])]);
    await listen(at(root, '/srv/cc/run/api.sock'));
    chmodSync(at(root, '/srv/cc/run/api.sock'), 0o755);
    chmodSync(at(root, '/srv/cc/run'), 0o700);
    const socket = find(diagnoseAt(root), 'channel.cc-connect.socket');
    expect(socket.fix).toBe("chgrp 'www-data' '/srv/cc/run' && chmod g+x '/srv/cc/run' && chgrp 'www-data' '/srv/cc/run/api.sock' && chmod g+w '/srv/cc/run/api.sock'");
    applyFix(root, socket.fix);
    expect(find(diagnoseAt(root), 'channel.cc-connect.socket').status).toBe('ok');
  });

  it('finds the socket under a pinned HOME when args give no --data-dir', async () => {
    const root = serverSandbox({ ...POOL, 'usr/local/bin/cc-connect': { content: '#!/bin/sh\n', mode: 0o755 } });
    writeChannels(root, [ccSpec(['send'], [['HOME', '/home/opencode']])]);
    expect(find(diagnoseAt(root), 'channel.cc-connect.socket').message).toContain('/home/opencode/.cc-connect/run/api.sock (under the pinned HOME)');
  });
});

describe('the dispatch user', () => {
  it('comes from the PHP-FPM pool, and checks are decided for it', async () => {
    const root = await installed({
      'etc/php/8.2/fpm/pool.d/www.conf': '[site]\nuser = nginx\n',
      'etc/passwd': `${PASSWD}nginx:x:101:101::/var/lib/nginx:/usr/sbin/nologin\n`,
      'etc/group': `${GROUP}nginx:x:101:\n`,
    });
    const checks = diagnoseAt(root);
    expect(find(checks, 'web-user').message).toMatch(/^dispatching as nginx \(uid 101/);
    expect(find(checks, 'web-user.home').message).toContain("nginx's own HOME /var/lib/nginx");
  });

  it('fails when --web-user names no user', async () => {
    const root = await installed();
    const r = await runMain(['doctor', '--site', SITE, '--root', root, '--web-user', 'nobody-here', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { webUser: { name: string; source: string }; checks: Check[] };
    expect(doc.webUser).toMatchObject({ name: 'nobody-here', source: 'flag' });
    expect(find(doc.checks, 'web-user')).toMatchObject({ status: 'fail', fix: expect.stringContaining('--web-user') });
  });

  rootIt('as root, only missing things fail', async () => {
    const root = await installed();
    expect(failures(diagnoseAt(root, 'root'))).toEqual([]);
  });
});

describe('doctor --json', () => {
  it('lists every check with id, status, message and fix', async () => {
    const root = await installed();
    const r = await runMain(['doctor', '--site', SITE, '--root', root, '--json']);
    const doc = JSON.parse(r.stdout) as { checks: Record<string, unknown>[]; exitCode: number };
    expect(doc.exitCode).toBe(r.code);
    expect(doc.checks.length).toBeGreaterThan(5);
    for (const c of doc.checks) expect(Object.keys(c)).toEqual(['id', 'status', 'message', 'fix']);
    expect(new Set(doc.checks.map((c) => c.id)).size).toBe(doc.checks.length);
  });
});

describe('telegram: its channel runs curl -q, which touches nothing under HOME', () => {
  it('gets no HOME check (a custom channel without a HOME pin would be warned)', async () => {
    const { bridgeSandbox } = await import('../helpers/bridge-sandbox.js');
    const root = bridgeSandbox();
    const installed = await runMain(['install', '--bridge', 'telegram', '--site', SITE, '--service-user', 'opencode', '--root', root], { TELEGRAM_BOT_TOKEN: '123:abc' });
    expect(installed.code).toBe(0);
    const custom = await runMain(['channel', 'set', 'pager', '--site', SITE, '--command', '/usr/bin/curl', '--arg', '{message}', '--root', root]);
    expect(custom.code).toBe(0);
    const ids = (JSON.parse((await runMain(['doctor', '--site', SITE, '--root', root, '--json'])).stdout) as { checks: Check[] }).checks.map((c) => c.id);
    expect(ids).toContain('channel.telegram.command');
    expect(ids).not.toContain('channel.telegram.home');
    expect(ids).toContain('channel.pager.home');
  });

  it('#16.1: no false unit-env FAIL: the block pins no HOME by design, so only what a bridge pins is compared', async () => {
    const { bridgeSandbox } = await import('../helpers/bridge-sandbox.js');
    const root = bridgeSandbox();
    const r = await runMain(['install', '--bridge', 'telegram', '--site', SITE, '--service-user', 'opencode', '--root', root], { TELEGRAM_BOT_TOKEN: '123:abc' });
    expect(r.code).toBe(0);
    const checks = diagnoseAt(root);
    expect(checks.filter((c) => c.id === 'channel.telegram.unit-env')).toEqual([]);
    expect(failures(checks)).toEqual([]);
    expect((await runMain(['doctor', '--site', SITE, '--root', root])).code).toBe(0);
  });

  it('every bridge pins in its channel block the env keys doctor compares with its unit', async () => {
    const { bridges } = await import('../../bridges/index.js');
    const identity = { serviceUser: 'opencode', uid: 1001, gid: 1001, home: '/home/opencode', dataDir: '/home/opencode/.d', binary: '/usr/local/bin/x', binaries: {}, site: SITE, init: 'systemd' as const };
    for (const bridge of bridges) {
      const channel = bridge.channel(identity, { command: '/usr/bin/curl', secretFile: '/etc/bridgectl/telegram.curl' });
      const keys = (channel?.env ?? []).map(([k]) => k);
      for (const pin of bridge.channelFacts.pins ?? []) expect([bridge.id, keys.includes(pin)]).toEqual([bridge.id, true]);
    }
  });
});
