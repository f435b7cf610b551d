/** Debian's versioned php-fpm on this machine, so the tests follow the release (8.2 on Debian 12, 8.4 on 13). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** PHP_FPM, else the newest /usr/sbin/php-fpm<version>. */
export const FPM_BINARY =
  process.env.PHP_FPM ?? path.join('/usr/sbin', (existsSync('/usr/sbin') ? readdirSync('/usr/sbin') : []).filter((f) => /^php-fpm[0-9.]+$/.test(f)).sort().pop() ?? 'php-fpm');

/** Its version, as in /etc/php/<version> and the php<version>-fpm service. */
export const FPM_VERSION = /php-fpm([0-9.]+)$/.exec(FPM_BINARY)?.[1] ?? 'unknown';
