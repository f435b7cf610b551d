/**
 * Load a channels mu-plugin with real PHP, the way WordPress would: ABSPATH
 * defined, add_filter stubbed to capture the callback, the filter applied to
 * an empty registry. Returns the channels array PHP built.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const LOADER = `<?php
define('ABSPATH', '/');
$GLOBALS['filters'] = [];
function add_filter($name, $callback) { $GLOBALS['filters'][$name] = $callback; return true; }
require $argv[1];
$channels = ($GLOBALS['filters']['wp_coding_agents_cli_channels'])([]);
echo json_encode($channels, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
`;

export interface PhpChannel {
  command: string;
  args: string[];
  detach: boolean;
  timeout: number;
  env?: Record<string, string>;
}

export function loadChannels(file: string): Record<string, PhpChannel> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-php-'));
  try {
    writeFileSync(path.join(dir, 'loader.php'), LOADER);
    const r = spawnSync('php', [path.join(dir, 'loader.php'), file], { encoding: 'utf8' });
    if (r.error) throw new Error('php is missing: install Debian package "php-cli" (CI must, see .ci/run)');
    if (r.status !== 0) throw new Error(`php failed (${r.status}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as Record<string, PhpChannel>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
