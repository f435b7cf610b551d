/**
 * Which user PHP runs as: the one that spawns channel commands (PHP-FPM
 * requests and WP-cron alike). One rule, shared by every command that needs
 * it (telegram's token file group, doctor): `--web-user`, else the `user =`
 * of the PHP-FPM pools under /etc/php/<version>/fpm/pool.d/*.conf (newest
 * PHP version first), else www-data. Pure over a Host.
 */
import path from 'node:path';
import type { Host, PasswdEntry } from './host.js';

export const DEFAULT_WEB_USER = 'www-data';
const PHP_DIR = '/etc/php';

export interface WebUser {
  name: string;
  /** Where the name came from, for messages: '--web-user', a pool file, or 'default'. */
  source: string;
  /** Its passwd entry; undefined when the user does not exist. */
  entry: PasswdEntry | undefined;
  /** Pools that disagree, and similar things worth telling the operator. */
  notes: string[];
}

export function resolveWebUser(flag: string | undefined, host: Host): WebUser {
  if (flag !== undefined && flag !== '') return { name: flag, source: '--web-user', entry: host.user(flag), notes: [] };
  const pools = poolUsers(host);
  const first = pools[0];
  if (!first) return { name: DEFAULT_WEB_USER, source: 'default', entry: host.user(DEFAULT_WEB_USER), notes: [] };
  const others = pools.filter((p) => p.user !== first.user);
  const notes =
    others.length === 0
      ? []
      : [
          `PHP-FPM pools run as different users (${[first, ...others].map((p) => `${p.user} in ${p.file}`).join(', ')}); ` +
            `using ${first.user}: pass --web-user to choose`,
        ];
  return { name: first.user, source: first.file, entry: host.user(first.user), notes };
}

/** `user =` of every pool, newest PHP version first, files in name order. */
export function poolUsers(host: Host): { user: string; file: string }[] {
  const versions = (host.list(PHP_DIR) ?? []).sort(byVersionDescending);
  const out: { user: string; file: string }[] = [];
  for (const version of versions) {
    const dir = path.posix.join(PHP_DIR, version, 'fpm/pool.d');
    for (const name of host.list(dir) ?? []) {
      if (!name.endsWith('.conf')) continue;
      const file = path.posix.join(dir, name);
      const user = parsePoolUser(host.readText(file) ?? '');
      if (user !== undefined) out.push({ user, file });
    }
  }
  return out;
}

/** The `user` directive of a pool file (the last one wins, as in php-fpm); skips values using $pool-style variables. */
export function parsePoolUser(text: string): string | undefined {
  let user: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*user\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    const value = (m[1] ?? '').replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
    if (value !== '' && !value.includes('$')) user = value;
  }
  return user;
}

function byVersionDescending(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return a.localeCompare(b);
}
