/**
 * Who dispatches: the user PHP runs as when WP-cron fires a dispatch, so the
 * one whose HOME, groups and permissions decide whether a channel's CLI can
 * run. Pure over a Host.
 *
 * Rule: --web-user, else env WEB_USER (the bash installer's name), else the
 * `user =` of the PHP-FPM pools under /etc/php/<version>/fpm/pool.d/*.conf
 * (newest PHP version first, pool files in name order), else www-data
 * (Debian's and Ubuntu's web user). The one place this is decided: the
 * telegram token file's group, doctor and the sudo grant all ask here.
 */
import path from 'node:path';
import type { Host } from '../model/facts.js';
import type { WebUser } from '../model/web-user.js';

export const DEFAULT_WEB_USER = 'www-data';

export function resolveWebUser(flag: string | undefined, host: Host): WebUser {
  const pools = fpmPoolUsers(host);
  if (flag !== undefined && flag !== '') {
    return { name: flag, source: 'flag', others: distinct(pools.map((p) => p.user)).filter((u) => u !== flag) };
  }
  const env = host.env.WEB_USER;
  if (env !== undefined && env !== '') {
    return { name: env, source: 'env', others: distinct(pools.map((p) => p.user)).filter((u) => u !== env) };
  }
  const first = pools[0];
  if (!first) return { name: DEFAULT_WEB_USER, source: 'default', others: [] };
  return { name: first.user, source: 'php-fpm', pool: first.pool, others: distinct(pools.map((p) => p.user)).filter((u) => u !== first.user) };
}

/** Every `user =` of every PHP-FPM pool, newest PHP version first. */
export function fpmPoolUsers(host: Host): { user: string; pool: string }[] {
  const out: { user: string; pool: string }[] = [];
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

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}
