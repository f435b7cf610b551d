/**
 * The PHP-FPM pools' users: who PHP runs as, read from
 * /etc/php/<version>/fpm/pool.d/*.conf (newest PHP version first, pool
 * files in name order). identity/web-user.ts decides the web user from them.
 */
import path from 'node:path';
import type { Facts, FpmPoolUser } from '../model/facts.js';

/** Every `user =` of every PHP-FPM pool, newest PHP version first. */
export function fpmPoolUsers(host: Facts): FpmPoolUser[] {
  const out: FpmPoolUser[] = [];
  const versions = (host.listDir('/etc/php') ?? []).slice().sort(compareVersionsDescending);
  for (const version of versions) {
    const dir = path.posix.join('/etc/php', version, 'fpm/pool.d');
    for (const name of host.listDir(dir) ?? []) {
      if (!name.endsWith('.conf')) continue;
      const pool = path.posix.join(dir, name);
      const text = host.readText(pool);
      if (text === undefined) continue;
      for (const user of parsePoolUsers(text)) out.push({ user, pool });
    }
  }
  return out;
}

/** The `user =` values of an FPM pool file (ini syntax; `;` and `#` start comments). */
export function parsePoolUsers(text: string): string[] {
  const users: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*user\s*=\s*(.*?)\s*$/.exec(raw.replace(/^\s*[;#].*$/, ''));
    if (!m) continue;
    const value = (m[1] ?? '').replace(/\s+;.*$/, '').replace(/^(["'])(.*)\1$/, '$2');
    // `$pool`-style values are expanded by FPM at run time; we cannot know them here.
    if (value !== '' && !value.includes('$')) users.push(value);
  }
  return users;
}

function compareVersionsDescending(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
