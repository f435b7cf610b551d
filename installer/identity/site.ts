/**
 * Which directory is the WordPress site: --site, else SITE_PATH, else the
 * nearest WordPress root at or above the current directory, as WP-CLI finds
 * it. Pure over Facts: the current directory is a fact (Facts.cwd), never
 * read here. A given site must look like WordPress (wp-includes/ and a
 * wp-config.php there or one directory up, where WordPress also looks), so
 * `--site /etc` is refused before mu-plugins is created in it.
 */
import path from 'node:path';
import { IdentityError, UsageError, type FactItem } from '../model/errors.js';
import type { Facts } from '../model/facts.js';

/** What resolveSite reads from the flags: install's family passes its IdentityFlags, channel and doctor their options. */
export interface SiteFlags {
  site?: string;
  /** --skip-wordpress-check: a layout the check does not know (a relocated wp-includes, a config loaded from elsewhere). */
  skipWordpressCheck?: boolean;
}

export const SKIP_FLAG = '--skip-wordpress-check';

export function resolveSite(flags: SiteFlags, host: Facts): string {
  const site = flags.site ?? host.env.SITE_PATH;
  if (site === undefined || site === '') return discoverSite(host);
  const from = flags.site !== undefined ? '--site' : 'SITE_PATH';
  requireAbsolute(site, from);
  // `..` is resolved lexically by normalize, which is not what the server
  // does when a component is a symlink (/a/../b need not be /b), and `/..`
  // would quietly become `/`: refused, not guessed.
  if (site.split('/').includes('..')) {
    throw new UsageError(`${from} ${JSON.stringify(site)} has a '..' component`, 'pass the WordPress root as a path without ..');
  }
  const normalized = path.posix.normalize(site).replace(/(.)\/$/, '$1');
  if (normalized === '/') {
    throw new UsageError(`${from} ${JSON.stringify(site)} is the filesystem root, not a WordPress root`, 'pass the WordPress root (the directory holding wp-config.php and wp-includes)');
  }
  host.need(markerReads(normalized));
  const facts = host.stat(normalized);
  if (!facts?.isDirectory) {
    throw new IdentityError(`site ${normalized} is not a directory${host.root === '/' ? '' : ` under --root ${host.root}`}`, 'pass the WordPress root (the directory holding wp-config.php and wp-includes) as --site');
  }
  if (flags.skipWordpressCheck !== true) {
    const missing = missingMarkers(normalized, host);
    if (missing.length > 0) {
      throw new IdentityError(
        `${from} ${normalized} does not look like a WordPress root: no ${missing.join(', no ')}`,
        `pass the directory holding wp-config.php and wp-includes/ (where WordPress is installed); for an unusual layout pass ${SKIP_FLAG}`,
      );
    }
  }
  return normalized;
}

/** What a WordPress root lacks: wp-includes/, and wp-config.php there or one directory up (wp-load.php looks in both). */
export function missingMarkers(dir: string, host: Facts): string[] {
  const missing: string[] = [];
  if (!host.stat(path.posix.join(dir, 'wp-includes'))?.isDirectory) missing.push(`${path.posix.join(dir, 'wp-includes')}/`);
  const config = (d: string): boolean => host.stat(path.posix.join(d, 'wp-config.php'))?.kind === 'file';
  const parent = path.posix.dirname(dir);
  if (!config(dir) && (parent === dir || !config(parent))) {
    missing.push(`wp-config.php in ${dir}${parent === dir ? '' : ` or ${parent}`}`);
  }
  return missing;
}

/** The stats missingMarkers makes, so a gather reads them in one round. */
function markerReads(dir: string): FactItem[] {
  const parent = path.posix.dirname(dir);
  return [dir, path.posix.join(dir, 'wp-includes'), path.posix.join(dir, 'wp-config.php'), path.posix.join(parent, 'wp-config.php')].map((p) => ({ kind: 'stat' as const, path: p }));
}

/** The nearest WordPress root at or above the current directory (WP-CLI's rule), or a usage error saying how to name one. */
function discoverSite(host: Facts): string {
  const hint = `pass --site /path/to/wordpress (or set SITE_PATH), or run bridgectl from inside the WordPress directory`;
  const cwd = host.cwd;
  if (cwd === undefined) {
    throw new UsageError('no site given', `${hint}${host.root === '/' ? '' : ` (the current directory is outside --root ${host.root})`}`);
  }
  const dirs: string[] = [];
  for (let dir = path.posix.normalize(cwd); ; dir = path.posix.dirname(dir)) {
    dirs.push(dir);
    if (dir === '/') break;
  }
  host.need(dirs.flatMap(markerReads));
  // `/` is never a site (resolveSite refuses it given as --site too).
  const found = dirs.find((dir) => dir !== '/' && host.stat(dir)?.isDirectory === true && missingMarkers(dir, host).length === 0);
  if (found === undefined) {
    throw new UsageError(`no site given, and no WordPress root (wp-config.php and wp-includes/) at or above the current directory ${cwd}`, hint);
  }
  return found;
}

function requireAbsolute(value: string, flag: string): void {
  if (!path.posix.isAbsolute(value)) throw new UsageError(`${flag} must be an absolute path, got ${JSON.stringify(value)}`);
}
