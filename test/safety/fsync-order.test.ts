/**
 * Durability order of a commit (installer/apply/apply.ts), seen with strace: each
 * directory is fsynced once its run of renames ends, before any rename in
 * another directory, and every directory renamed into is fsynced before the
 * process exits. With the plan's order (files a channel points at first,
 * engine.ts) that keeps a crash from leaving the channels file on disk
 * without the token file it points at, even across filesystems.
 *
 * strace is installed by .ci/run; in CI its absence is a failure. Where
 * ptrace is refused (some containers) the test says so and skips.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { BIN } from '../helpers/cli.js';
import { ALL_BRIDGE_FLAGS, bridgeSandbox, SECRET_ENV } from '../helpers/bridge-sandbox.js';
import { SITE } from '../helpers/sandbox.js';


function straceUsable(): boolean {
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true']);
  if (r.error) {
    if (process.env.CI) throw new Error('strace is required in CI (.ci/run installs it)');
    return false;
  }
  if (r.status !== 0) console.warn(`fsync-order: skipped, strace cannot trace here (ptrace refused?): ${String(r.stderr).trim()}`);
  return r.status === 0;
}

const usable = straceUsable();
(usable ? it : it.skip)('renames in plan order; each directory fsynced before a rename elsewhere and before exit', () => {
  const root = bridgeSandbox();
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-strace-'));
  try {
    const log = path.join(dir, 'trace');
    const argv = ['install', ...ALL_BRIDGE_FLAGS, '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload'];
    const r = spawnSync('strace', ['-f', '-y', '-qq', '-s', '4096', '-e', 'trace=rename,renameat,renameat2,fsync,fdatasync', '-o', log, process.execPath, BIN, ...argv], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...SECRET_ENV, BRIDGECTL_PHP: 'none', BRIDGECTL_SYSTEMD_ANALYZE: 'none' },
    });
    expect({ status: r.status, stderr: r.stderr.replace(/^note: .*\n/gm, '') }).toEqual({ status: 0, stderr: '' });

    const renamed: string[] = []; // target paths, in order
    let pending: string[] = []; // directories with renames not yet fsynced
    let dirSyncs = 0;
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const rename = /rename(?:at2?)?\(.*"([^"]+)".*"([^"]+)".*\) = 0/.exec(line);
      if (rename && rename[2]?.startsWith(root)) {
        const target = rename[2];
        const into = path.dirname(target);
        // Everything renamed before, in another directory, is durable already.
        expect({ renaming: target, unsynced: pending.filter((d) => d !== into) }).toEqual({ renaming: target, unsynced: [] });
        if (!pending.includes(into)) pending.push(into);
        renamed.push(target.slice(root.length));
        continue;
      }
      const sync = /f(?:data)?sync\(\d+<([^>]+)>\) = 0/.exec(line);
      if (sync && pending.includes(sync[1] as string)) {
        pending = pending.filter((d) => d !== sync[1]);
        dirSyncs += 1;
      }
    }
    expect(pending).toEqual([]); // every directory renamed into was fsynced before exit
    // The secret files (pointed at by their channels) first, then the mu-plugins, then the units, each in bridge order.
    const expected = [
      ...bridges.flatMap((b) => (b.secret ? [b.secret.file.path] : [])),
      `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`,
      `${SITE}/wp-content/mu-plugins/wp-coding-agents-cli-transport.php`,
      ...bridges.flatMap((b) => b.units.map((u) => `/etc/systemd/system/${u.unit}`)),
    ];
    expect(renamed).toEqual(expected);
    expect(dirSyncs).toBe(new Set(expected.map((p) => path.posix.dirname(p))).size); // one per run of renames in a directory, not one per rename
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
