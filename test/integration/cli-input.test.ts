/**
 * Input bridgectl must refuse or carry exactly (#17 items 6, 9, 12): an
 * option without its value, a passwd home that is not absolute, argv that
 * is not UTF-8, quotes yargs would strip, a site that normalizes to `/`.
 * Every refusal: exit 1, one clear line naming the option or entry, and
 * nothing written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { envOf, parseSystemdUnit } from '../../installer/render/units.js';
import { spawnSync } from 'node:child_process';
import { BIN, runMain } from '../helpers/cli.js';
import { at, PASSWD, serverSandbox, SITE, SVC_GID, SVC_UID, wordpressSite } from '../helpers/sandbox.js';
import { entries } from '../helpers/tree.js';

const INSTALL = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode'];


describe('an option without its value (#17 item 9)', () => {
  it.each([
    [['install', '--bridge', 'kimaki', '--site'], '--site'],
    [['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root'], '--root'],
    [[...INSTALL, '--lock-timeout'], '--lock-timeout'],
    [[...INSTALL, '--binary'], '--binary'],
    [['upgrade', '--site', SITE, '--data-dir'], '--data-dir'],
  ])('%j: one line naming %s, exit 1, nothing written', async (argv, option) => {
    const root = serverSandbox();
    const before = entries(root);
    const withRoot = argv.includes('--root') ? argv : ['--root', root, ...argv];
    const r = await runMain(withRoot);
    expect(r.code).toBe(1);
    // The see-help line names the command's own help (#19 item 6).
    expect(r.stderr).toBe(`bridgectl: ${option} needs a value\n  see 'bridgectl ${argv[0]} --help'\n`);
    expect(entries(root)).toEqual(before);
  });

  it('a value starting with a dash: the --opt=-x spelling, not a see-help line (#19 item 6)', async () => {
    const root = serverSandbox();
    const before = entries(root);
    const r = await runMain(['--root', root, ...INSTALL, '--web-user', '-x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("bridgectl: --web-user needs a value, and -x was taken for an option\n  fix: a value that starts with a dash goes after '=': --web-user=-x\n");
    expect(entries(root)).toEqual(before);
  });
});

describe('a passwd home that is not an absolute path (#17 item 9)', () => {
  it.each([
    ['empty', ''],
    ['relative', 'home/opencode'],
  ])('%s: names the passwd entry, exit 1, nothing written', async (_what, home) => {
    const root = serverSandbox();
    writeFileSync(at(root, '/etc/passwd'), PASSWD.replace(/^(opencode:[^:]*:[^:]*:[^:]*:[^:]*:)[^:]*:/m, `$1${home}:`));
    const before = entries(root);
    const r = await runMain([...INSTALL, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: service user 'opencode' has the home ${JSON.stringify(home)} in ${root}/etc/passwd, not an absolute path`);
    expect(entries(root)).toEqual(before);
  });
});

describe('a site that climbs or is / (#17 item 12)', () => {
  it.each([
    [['--site', '/..'], `--site "/.." has a '..' component`],
    [['--site', '/var/www/../www/html'], `--site "/var/www/../www/html" has a '..' component`],
    [['--site', '/'], '--site "/" is the filesystem root, not a WordPress root'],
    [['--site', '//./'], '--site "//./" is the filesystem root, not a WordPress root'],
  ])('%j is refused, exit 1, nothing written', async (site, message) => {
    const root = serverSandbox();
    const before = entries(root);
    for (const command of [['install', '--bridge', 'kimaki', '--service-user', 'opencode'], ['upgrade'], ['render', '--bridge', 'kimaki', '--run-as-root', '--binary', '/usr/bin/k']]) {
      const r = await runMain([...command, ...site, '--root', root]);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`bridgectl: ${message}`);
    }
    expect(entries(root)).toEqual(before);
  });

  it('SITE_PATH=/.. is refused naming SITE_PATH', async () => {
    const root = serverSandbox();
    const r = await runMain(['install', '--bridge', 'kimaki', '--service-user', 'opencode', '--root', root], { SITE_PATH: '/..' });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: SITE_PATH "/.." has a '..' component`);
  });
});

describe('values reach the files byte-exact (#17 item 6)', () => {
  it('quotes around a --name=value value are kept (yargs would strip them)', async () => {
    const root = serverSandbox({ 'usr/local/bin/notify': { content: '#!/bin/sh\n', mode: 0o755 } });
    const args = ["--arg='hello'", '--arg="{message}"', '--arg', '"{recipient}"', "--arg='"];
    const r = await runMain(['channel', 'set', 'notify', '--site', SITE, '--command', '/usr/local/bin/notify', ...args, '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const listed = await runMain(['channel', 'list', '--site', SITE, '--json', '--root', root]);
    const notify = (JSON.parse(listed.stdout) as { channels: { name: string; args: string[] }[] }).channels.find((c) => c.name === 'notify');
    expect(notify?.args).toEqual(["'hello'", '"{message}"', '"{recipient}"', "'"]);
  });

  it('a quoted --site=… value stays as written too (yargs never unquoted this one: guardQuotes must not start to)', async () => {
    const root = serverSandbox();
    const r = await runMain(['install', '--bridge', 'kimaki', `--site="${SITE}"`, '--service-user', 'opencode', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: --site must be an absolute path, got ${JSON.stringify(`"${SITE}"`)}`);
  });
});

describe('argv and environment that are not UTF-8 (#17 item 6)', () => {
  // Only a real process has bytes that are not UTF-8: the built bin, given them by sh's printf.
  const sh = (script: string, env: Record<string, string> = {}) => {
    const r = spawnSync('/bin/sh', ['-c', script, 'sh', process.execPath, BIN], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const RENDER = 'render --bridge kimaki --site /var/www/html --run-as-root --init systemd';

  it.each([
    ['--binary PATH', `"$1" "$2" ${RENDER} --binary "$(printf '/opt/k\\377imaki')"`, 'the value of --binary is not valid UTF-8: "/opt/k\\xffimaki"'],
    ['--binary=PATH', `"$1" "$2" ${RENDER} --binary="$(printf '/opt/k\\377imaki')"`, '--binary is not valid UTF-8: "--binary=/opt/k\\xffimaki"'],
    ['--site', `"$1" "$2" render --bridge kimaki --run-as-root --binary /usr/bin/k --site "$(printf '/srv/\\300\\257')"`, 'the value of --site is not valid UTF-8: "/srv/\\xc0\\xaf"'],
    ['SITE_PATH', `SITE_PATH="$(printf '/srv/\\376')" "$1" "$2" upgrade`, 'environment variable SITE_PATH is not valid UTF-8: "/srv/\\xfe"'],
    ['SERVICE_USER', `SERVICE_USER="$(printf 'op\\377')" "$1" "$2" upgrade --site /srv`, 'environment variable SERVICE_USER is not valid UTF-8: "op\\xff"'],
  ])('%s: refused naming it, exit 1, nothing on stdout', (_what, script, message) => {
    const r = sh(script);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: ${message}`);
    expect(r.code).toBe(1);
  });

  it('a real U+FFFD (valid UTF-8) is not damage: it is written as given', () => {
    const r = sh(`"$1" "$2" ${RENDER} --binary "$(printf '/opt/k\\357\\277\\275imaki')"`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("'command' => '/opt/k\ufffdimaki'");
  });

  it('in-process, with no raw bytes to consult, a U+FFFD is taken as damage', async () => {
    const r = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/opt/k\ufffdimaki']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('bridgectl: the value of --binary is not valid UTF-8: "/opt/k\ufffdimaki"');
  });
});

describe('a site or user name ending in a backslash (#17 item 5)', () => {
  it("install --site '/srv/ab\\' pins HOME in the unit (no continuation line), and upgrade is a no-op", async () => {
    const site = '/srv/ab\\';
    const root = serverSandbox();
    wordpressSite(root, site);
    const r = await runMain(['install', '--bridge', 'kimaki', '--site', site, '--service-user', 'opencode', '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const unit = readFileSync(at(root, '/etc/systemd/system/kimaki.service'), 'utf8');
    expect(unit).toMatch(/^WorkingDirectory=\/srv\/ab\\\/\nEnvironment=HOME=\/home\/opencode\n/m);
    expect(parseSystemdUnit(unit)).toMatchObject({ workingDirectory: site, user: 'opencode' });
    expect(envOf(parseSystemdUnit(unit), 'HOME')).toBe('/home/opencode');
    const installed = entries(root);
    const upgrade = await runMain(['upgrade', '--site', site, '--root', root]);
    expect(upgrade).toMatchObject({ code: 0, stderr: '' });
    expect(entries(root)).toEqual(installed);
  });

  it('a service user whose name ends in a backslash is refused naming the unit and User=, nothing written', async () => {
    const root = serverSandbox();
    writeFileSync(at(root, '/etc/passwd'), `${PASSWD}svc\\:x:${SVC_UID}:${SVC_GID}::/home/opencode:/bin/sh\n`);
    const before = entries(root);
    const r = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'svc\\', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('bridgectl: /etc/systemd/system/kimaki.service: User "svc\\\\" ends in a backslash, which systemd reads as a continuation line in User=');
    expect(entries(root)).toEqual(before);
  });

  it('upgrade over an installed unit names the unit in a refusal too (its operator lines are rendered first)', async () => {
    const root = serverSandbox();
    expect((await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root])).code).toBe(0);
    writeFileSync(at(root, '/etc/passwd'), `${PASSWD}svc\\:x:${SVC_UID}:${SVC_GID}::/home/opencode:/bin/sh\n`);
    const before = entries(root);
    const r = await runMain(['upgrade', '--site', SITE, '--service-user', 'svc\\', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^bridgectl: \/etc\/systemd\/system\/kimaki\.service: User /);
    expect(entries(root)).toEqual(before);
  });
});
