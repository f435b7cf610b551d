/**
 * Who dispatches: the user PHP runs as when WP-cron fires a dispatch, so the
 * one whose HOME, groups and permissions decide whether a channel's CLI can
 * run. Pure over Facts.
 *
 * Rule: --web-user, else env WEB_USER (the bash installer's name), else the
 * `user =` of the PHP-FPM pools (Facts.fpmPools: newest PHP version first,
 * pool files in name order), else www-data (Debian's and Ubuntu's web
 * user). The one place this is decided: the telegram token file's group,
 * doctor and the sudo grant all ask here.
 */
import type { Facts } from '../model/facts.js';
import type { WebUser } from '../model/web-user.js';

export const DEFAULT_WEB_USER = 'www-data';

export function resolveWebUser(flag: string | undefined, host: Facts): WebUser {
  const pools = host.fpmPools();
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

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}
