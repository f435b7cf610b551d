/** The PHP-FPM services of a machine, found from its pools (Facts.fpmPools): which to reload after a PHP file changed. */
import path from 'node:path';
import type { Facts } from '../model/facts.js';

/** One PHP-FPM service: a PHP version with at least one pool. */
export interface FpmService {
  version: string;
  /** systemd's name for it (Debian's packaging). */
  unit: string;
  /** The master's pid file, from php-fpm.conf `pid =` (server path), when set. */
  pidFile?: string;
}

/** The PHP-FPM services with pools on this host, newest PHP version first (the pools' order). */
export function fpmServices(host: Facts): FpmService[] {
  const versions: string[] = [];
  for (const { pool } of host.fpmPools()) {
    const version = pool.split('/')[3] ?? '';
    if (version !== '' && !versions.includes(version)) versions.push(version);
  }
  return versions.map((version) => {
    const conf = host.readText(`/etc/php/${version}/fpm/php-fpm.conf`);
    const pid = conf === undefined ? undefined : pidFileOf(conf);
    // A relative pid path is relative to FPM's prefix, /var on Debian's build.
    const pidFile = pid === undefined ? undefined : path.posix.isAbsolute(pid) ? pid : path.posix.join('/var', pid);
    return { version, unit: `php${version}-fpm`, ...(pidFile ? { pidFile } : {}) };
  });
}

/** The `pid =` of php-fpm.conf's [global] section (ini syntax; `;` starts a comment). */
export function pidFileOf(text: string): string | undefined {
  let global = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*;.*$/, '').trim();
    const section = /^\[(.*)\]$/.exec(line);
    if (section) global = section[1] === 'global';
    const m = global ? /^pid\s*=\s*(.*?)\s*$/.exec(line) : null;
    if (m) return (m[1] ?? '').replace(/\s+;.*$/, '').replace(/^(["'])(.*)\1$/, '$2');
  }
  return undefined;
}
