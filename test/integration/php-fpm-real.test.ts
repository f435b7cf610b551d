/**
 * #16 item 4 against a real php-fpm: with opcache.validate_timestamps=0 a
 * rewritten PHP file stays invisible until the master reloads, and
 * bridgectl's reload (SIGUSR2 to the pid from php-fpm.conf, as on a host
 * without systemd as PID 1) makes it visible. The php-fpm is the test's own:
 * started on a unix socket in a temp dir, stopped afterwards.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeHost } from '../../installer/facts/host.js';
import { reloadPhpFpm } from '../../installer/apply/php-fpm.js';
import { fastcgiGet } from '../helpers/fastcgi.js';
import { FPM_BINARY, FPM_VERSION } from '../helpers/php-fpm.js';

const FPM = FPM_BINARY;
const have = existsSync(FPM);
if (process.env.CI && !have) throw new Error(`CI: ${FPM} is required for the PHP-FPM reload test (apt-get install php-fpm)`);
const fpmIt = have ? it : it.skip;
const isRoot = process.getuid?.() === 0;

let root = '';
afterEach(() => {
  if (!root) return;
  const pid = existsSync(path.join(root, 'fpm.pid')) ? Number(readFileSync(path.join(root, 'fpm.pid'), 'utf8').trim()) : 0;
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
  rmSync(root, { recursive: true, force: true });
  root = '';
});

async function answer(socket: string, script: string, want: string, deadline = Date.now() + 10_000): Promise<string> {
  for (;;) {
    const got = await fastcgiGet(socket, script).catch((err: Error) => `error: ${err.message}`);
    if (got === want || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a real php-fpm with opcache.validate_timestamps=0', () => {
  fpmIt('serves the old file until bridgectl reloads it, then the new one', async () => {
    root = mkdtempSync('/tmp/bridgectl-fpm-');
    chmodSync(root, 0o755);
    const socket = path.join(root, 'fpm.sock');
    const site = path.join(root, 'site');
    mkdirSync(site, { mode: 0o755 });
    writeFileSync(path.join(site, 'conf.php'), "<?php return 'old';\n", { mode: 0o644 });
    writeFileSync(path.join(site, 't.php'), "<?php echo (require __DIR__ . '/conf.php'), ' ', ini_get('opcache.validate_timestamps'), ' ', (int) (opcache_get_status(false)['opcache_enabled'] ?? 0);\n", { mode: 0o644 });
    // What php-fpm itself reads (real paths) …
    const user = isRoot ? 'user = nobody\ngroup = nogroup\n' : '';
    writeFileSync(
      path.join(root, 'php-fpm.conf'),
      `[global]\npid = ${root}/fpm.pid\nerror_log = ${root}/fpm.log\ndaemonize = yes\n[t]\n${user}listen = ${socket}\nlisten.mode = 0666\npm = static\npm.max_children = 1\n` +
        // file_update_protection=0: opcache would not cache a file written under 2 s ago, which these are.
        'php_admin_value[opcache.enable] = 1\nphp_admin_value[opcache.validate_timestamps] = 0\nphp_admin_value[opcache.file_update_protection] = 0\n',
    );
    // … and what bridgectl finds under the root standing in for the live host (a server path for the pid file).
    mkdirSync(path.join(root, `etc/php/${FPM_VERSION}/fpm/pool.d`), { recursive: true });
    writeFileSync(path.join(root, `etc/php/${FPM_VERSION}/fpm/pool.d/t.conf`), '[t]\nuser = nobody\n');
    writeFileSync(path.join(root, `etc/php/${FPM_VERSION}/fpm/php-fpm.conf`), '[global]\npid = /fpm.pid\n');

    const started = spawnSync(FPM, ['--fpm-config', path.join(root, 'php-fpm.conf')], { encoding: 'utf8' });
    expect([started.status, started.stderr]).toEqual([0, '']);
    const script = path.join(site, 't.php');
    expect(await answer(socket, script, 'old 0 1')).toBe('old 0 1');

    writeFileSync(path.join(site, 'conf.php'), "<?php return 'new';\n");
    await new Promise((r) => setTimeout(r, 2500)); // past the default revalidate_freq of 2 s: still the old one
    expect(await fastcgiGet(socket, script)).toBe('old 0 1');

    const result = await reloadPhpFpm(nodeHost(root, {}), root, { reload: true, needed: true }, { liveRoot: root, systemdRunning: () => false });
    const pid = readFileSync(path.join(root, 'fpm.pid'), 'utf8').trim();
    expect(result).toEqual({ reloaded: [`php${FPM_VERSION}-fpm (kill -USR2 ${pid})`], notes: [], settled: true });
    expect(await answer(socket, script, 'new 0 1')).toBe('new 0 1');
  }, 30_000);
});
