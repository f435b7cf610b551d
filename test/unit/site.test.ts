/** resolveSite: --site must be a WordPress root; without one the site is found from the current directory up (identity/site.ts). */
import { describe, expect, it } from '@jest/globals';
import { resolveSite } from '../../installer/identity/site.js';
import { IdentityError, UsageError } from '../../installer/model/errors.js';
import { dir, fakeHost, wordpressFiles } from '../helpers/fake-host.js';

const WP = '/var/www/html';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('--site must be a WordPress root', () => {
  it('takes a directory holding wp-includes/ and wp-config.php', () => {
    expect(resolveSite({ site: `${WP}/` }, fakeHost({ wordpress: [WP] }))).toBe(WP);
  });

  it('takes wp-config.php one directory up, where WordPress also looks', () => {
    const host = fakeHost({ wordpress: [], files: { [`${WP}/wp-includes`]: dir(), '/var/www/wp-config.php': '<?php\n' } });
    expect(resolveSite({ site: WP }, host)).toBe(WP);
  });

  it.each(['/etc', '/var/www', '/home/chubes'])('refuses %s, naming both missing parts', (site) => {
    const host = fakeHost({ wordpress: [WP], files: { '/etc/hosts': 'x', '/home/chubes': dir(1000, 1000) } });
    const err = caught(() => resolveSite({ site }, host));
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as Error).message).toMatch(new RegExp(`^--site ${site} does not look like a WordPress root: no ${site}/wp-includes/, no wp-config.php in ${site} or `));
    expect((err as IdentityError).hint).toMatch(/--skip-wordpress-check/);
  });

  it('names only what is missing', () => {
    const host = fakeHost({ wordpress: [], files: { [`${WP}/wp-includes`]: dir() } });
    expect(() => resolveSite({ site: WP }, host)).toThrow(`--site ${WP} does not look like a WordPress root: no wp-config.php in ${WP} or /var/www`);
    const noIncludes = fakeHost({ wordpress: [], files: { [`${WP}/wp-config.php`]: '<?php\n' } });
    expect(() => resolveSite({ site: WP }, noIncludes)).toThrow(`no ${WP}/wp-includes/`);
  });

  it('says SITE_PATH when the environment named the site', () => {
    expect(() => resolveSite({}, fakeHost({ env: { SITE_PATH: '/etc' }, files: { '/etc/hosts': 'x' } }))).toThrow(/^SITE_PATH \/etc does not look like a WordPress root/);
  });

  it('takes any directory with --skip-wordpress-check, but still not a missing one', () => {
    const host = fakeHost({ files: { '/srv/odd': dir() } });
    expect(resolveSite({ site: '/srv/odd', skipWordpressCheck: true }, host)).toBe('/srv/odd');
    expect(() => resolveSite({ site: '/srv/gone', skipWordpressCheck: true }, host)).toThrow(/not a directory/);
  });
});

describe('without --site or SITE_PATH the site is found from the current directory up, as WP-CLI does', () => {
  it('finds the root from a directory inside it', () => {
    const host = fakeHost({ wordpress: [WP], files: { [`${WP}/wp-content/plugins/x`]: dir() }, cwd: `${WP}/wp-content/plugins/x` });
    expect(resolveSite({}, host)).toBe(WP);
  });

  it('finds the root from the root itself, and the nearest of nested ones', () => {
    const nested = `${WP}/blog`;
    const host = fakeHost({ files: { ...wordpressFiles(WP), ...wordpressFiles(nested), [`${nested}/wp-admin`]: dir() }, cwd: `${nested}/wp-admin` });
    expect(resolveSite({}, host)).toBe(nested);
    expect(resolveSite({}, fakeHost({ wordpress: [WP], cwd: WP }))).toBe(WP);
  });

  it('says how to name the site when no WordPress root is above the current directory', () => {
    const host = fakeHost({ wordpress: [WP], files: { '/home/chubes': dir() }, cwd: '/home/chubes' });
    const err = caught(() => resolveSite({}, host));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('no site given, and no WordPress root (wp-config.php and wp-includes/) at or above the current directory /home/chubes');
    expect((err as UsageError).hint).toMatch(/--site .*SITE_PATH.*inside the WordPress directory/);
  });

  it('says so when the current directory is outside --root', () => {
    expect(() => resolveSite({}, fakeHost({ wordpress: [WP] }))).toThrow(/^no site given$/);
  });
});
