/**
 * Every bridge at once, from the bridge registry: a sandbox with each one's
 * executables, and the flags and environment an install of all of them takes.
 */
import { bridges } from '../../bridges/index.js';
import { serverSandbox, type Tree } from './sandbox.js';

const exe = { content: '#!/bin/sh\nexit 0\n', mode: 0o755 };

/** Where bridgeSandbox puts each executable: a channel's helper (curl) in /usr/bin, the rest in /usr/local/bin. */
export const EXECUTABLES: Readonly<Record<string, string>> = Object.fromEntries(
  bridges.flatMap((b) => [
    ...[b.binaryName, ...(b.serviceBinaries ?? [])].map((n) => [n, `/usr/local/bin/${n}`]),
    ...(b.channelBinary ? [[b.channelBinary, `/usr/bin/${b.channelBinary}`]] : []),
  ]),
);

/** `--bridge ID` for every bridge, in registry order. */
export const ALL_BRIDGE_FLAGS: readonly string[] = bridges.flatMap((b) => ['--bridge', b.id]);

/** `--binary NAME=PATH` for every executable, where bridgeSandbox puts it. */
export const ALL_BINARY_FLAGS: readonly string[] = Object.entries(EXECUTABLES).flatMap(([n, p]) => ['--binary', `${n}=${p}`]);

/** Each bridge's secret in its environment variable, as its well-shaped sample. */
export const SECRET_ENV: Readonly<Record<string, string>> = Object.fromEntries(bridges.flatMap((b) => (b.secret ? [[b.secret.env, b.secret.sample]] : [])));

/** Each bridge's secret as its flag and sample value. */
export const SECRET_FLAGS: readonly string[] = bridges.flatMap((b) => (b.secret ? [b.secret.flag, b.secret.sample] : []));

/** Every systemd unit of every bridge, sorted. */
export const ALL_UNITS: readonly string[] = bridges.flatMap((b) => b.units.map((u) => u.unit)).sort();

/** serverSandbox plus every bridge's executables and a PHP-FPM pool running as www-data. */
export function bridgeSandbox(extra: Tree = {}): string {
  return serverSandbox({
    ...Object.fromEntries(Object.values(EXECUTABLES).map((p) => [p.slice(1), exe])),
    'etc/php/8.2/fpm/pool.d/www.conf': '[www]\nuser = www-data\ngroup = www-data\n',
    ...extra,
  });
}
