/** The site on the command line (#19 item 2): refused unless a WordPress root; found from the current directory without --site. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { BIN, runMain } from '../helpers/cli.js';
import { at, CHANNELS, SITE, serverSandbox } from '../helpers/sandbox.js';
import { snapshot } from '../helpers/tree.js';

const INSTALL = ['install', '--bridge', 'kimaki', '--service-user', 'opencode'];

describe('install --site that is not a WordPress root', () => {
  it.each(['/etc', '/var/www', '/home/opencode'])('%s: exit 1, names what is missing, creates no mu-plugins', async (site) => {
    const root = serverSandbox();
    const before = snapshot(root);
    const r = await runMain([...INSTALL, '--site', site, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^bridgectl: --site ${site} does not look like a WordPress root: no ${site}/wp-includes/, no wp-config.php in ${site} or `));
    expect(r.stderr).toContain('--skip-wordpress-check');
    expect(existsSync(at(root, `${site}/wp-content/mu-plugins`))).toBe(false);
    expect(snapshot(root)).toEqual(before);
  });

  it('--skip-wordpress-check installs into an unusual layout', async () => {
    const root = serverSandbox();
    mkdirSync(at(root, '/srv/odd'), { recursive: true });
    const r = await runMain([...INSTALL, '--site', '/srv/odd', '--skip-wordpress-check', '--root', root]);
    expect(r.code).toBe(0);
    expect(existsSync(at(root, '/srv/odd/wp-content/mu-plugins/wp-coding-agents-channels.php'))).toBe(true);
  });

  it('doctor and channel list refuse it too, and take the override', async () => {
    const root = serverSandbox();
    expect((await runMain(['doctor', '--site', '/etc', '--root', root])).stderr).toMatch(/^bridgectl: --site \/etc does not look like a WordPress root/);
    expect((await runMain(['channel', 'list', '--site', '/etc', '--root', root])).stderr).toMatch(/^bridgectl: --site \/etc does not look like a WordPress root/);
    expect((await runMain(['channel', 'list', '--site', '/etc', '--skip-wordpress-check', '--root', root])).code).toBe(0);
  });
});

describe('without --site or SITE_PATH, the site is the WordPress root at or above the current directory', () => {
  const run = (cwd: string, argv: string[]) => spawnSync(process.execPath, [BIN, ...argv], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

  it('from a directory inside the site (the built binary, in its own cwd)', () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    const root = serverSandbox();
    const r = run(at(root, `${SITE}/wp-content`), [...INSTALL, '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(at(root, CHANNELS))).toBe(true);
  });

  it('from outside any site: exit 1, saying how to name one', () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does)`);
    const root = serverSandbox();
    const r = run(at(root, '/home/opencode'), [...INSTALL, '--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('bridgectl: no site given, and no WordPress root (wp-config.php and wp-includes/) at or above the current directory /home/opencode\n');
    expect(r.stderr).toContain('fix: pass --site /path/to/wordpress (or set SITE_PATH), or run bridgectl from inside the WordPress directory');
  });
});
