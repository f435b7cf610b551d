/**
 * Input bridgectl must refuse or carry exactly (#17 items 6, 9, 12): an
 * option without its value, a passwd home that is not absolute, argv that
 * is not UTF-8, quotes yargs would strip, a site that normalizes to `/`.
 * Every refusal: exit 1, one clear line naming the option or entry, and
 * nothing written.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runMain } from '../helpers/cli.js';
import { at, PASSWD, serverSandbox, SITE } from '../helpers/sandbox.js';

const INSTALL = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode'];

function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        out.set(`${path.relative(root, p)}/`, '');
        walk(p);
      } else out.set(path.relative(root, p), readFileSync(p, 'latin1'));
    }
  };
  walk(root);
  return out;
}

describe('an option without its value (#17 item 9)', () => {
  it.each([
    [['install', '--bridge', 'kimaki', '--site'], '--site'],
    [['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root'], '--root'],
    [[...INSTALL, '--lock-timeout'], '--lock-timeout'],
    [[...INSTALL, '--web-user', '-x'], '--web-user'],
    [[...INSTALL, '--binary'], '--binary'],
    [['upgrade', '--site', SITE, '--data-dir'], '--data-dir'],
  ])('%j: one line naming %s, exit 1, nothing written', async (argv, option) => {
    const root = serverSandbox();
    const before = snapshot(root);
    const withRoot = argv.includes('--root') ? argv : ['--root', root, ...argv];
    const r = await runMain(withRoot);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`bridgectl: ${option} needs a value\n  see 'bridgectl --help'\n`);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('a passwd home that is not an absolute path (#17 item 9)', () => {
  it.each([
    ['empty', ''],
    ['relative', 'home/opencode'],
  ])('%s: names the passwd entry, exit 1, nothing written', async (_what, home) => {
    const root = serverSandbox();
    writeFileSync(at(root, '/etc/passwd'), PASSWD.replace(/^(opencode:[^:]*:[^:]*:[^:]*:[^:]*:)[^:]*:/m, `$1${home}:`));
    const before = snapshot(root);
    const r = await runMain([...INSTALL, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: service user 'opencode' has the home ${JSON.stringify(home)} in ${root}/etc/passwd, not an absolute path`);
    expect(snapshot(root)).toEqual(before);
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
    const before = snapshot(root);
    for (const command of [['install', '--bridge', 'kimaki', '--service-user', 'opencode'], ['upgrade'], ['render', '--bridge', 'kimaki', '--run-as-root', '--binary', '/usr/bin/k']]) {
      const r = await runMain([...command, ...site, '--root', root]);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`bridgectl: ${message}`);
    }
    expect(snapshot(root)).toEqual(before);
  });

  it('SITE_PATH=/.. is refused naming SITE_PATH', async () => {
    const root = serverSandbox();
    const r = await runMain(['install', '--bridge', 'kimaki', '--service-user', 'opencode', '--root', root], { SITE_PATH: '/..' });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: SITE_PATH "/.." has a '..' component`);
  });
});
