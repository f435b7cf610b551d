import { serverSandbox, type Tree } from './sandbox.js';

const exe = { content: '#!/bin/sh\nexit 0\n', mode: 0o755 };

/** serverSandbox plus every bridge's executables, curl, and a PHP-FPM pool running as www-data. */
export function bridgeSandbox(extra: Tree = {}): string {
  return serverSandbox({
    'usr/local/bin/cc-connect': exe,
    'usr/local/bin/opencode': exe,
    'usr/local/bin/opencode-telegram': exe,
    'usr/bin/curl': exe,
    'etc/php/8.2/fpm/pool.d/www.conf': '[www]\nuser = www-data\ngroup = www-data\n',
    ...extra,
  });
}
