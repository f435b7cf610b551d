/**
 * #17 item 12: what a refused or killed run leaves behind. A refused run
 * leaves no directory it made for its temp files; a run SIGKILLed while
 * systemd-analyze reads its unit copies leaves them in bridgectl's private
 * verify directory (not the shared temp dir), and the next run removes them.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, runBin } from '../helpers/cli.js';
import { isRoot, sandbox, serverSandbox, SITE } from '../helpers/sandbox.js';

const install = (root: string, ...extra: string[]): string[] => ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload', ...extra];

/** Every directory under root, but the lock's own (/run/bridgectl, which stays by design). */
function dirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (!lstatSync(full).isDirectory()) continue;
      const rel = `/${path.relative(root, full)}`;
      if (rel !== '/run' && !rel.startsWith('/run/')) out.push(rel);
      walk(full);
    }
  };
  walk(root);
  return out.sort();
}

/** A stand-in for systemd-analyze: `verdict` is shell run after it recorded the unit copies it was given. */
function fakeAnalyze(verdict: string): { bin: string; seen: string } {
  const dir = sandbox();
  const bin = path.join(dir, 'systemd-analyze');
  const seen = path.join(dir, 'seen');
  // The unit files it was given: every argument but the subcommand and the options.
  writeFileSync(bin, `#!/bin/sh\nfor f in "$@"; do case "$f" in verify|-*) ;; *) echo "$f" >> ${seen};; esac; done\n${verdict}\n`);
  chmodSync(bin, 0o755);
  return { bin, seen };
}

describe('a refused run leaves no empty directory', () => {
  it('install refused by systemd-analyze: no mu-plugins, no /etc/systemd/system, no data dir', () => {
    const root = serverSandbox();
    const before = dirs(root);
    const analyze = fakeAnalyze('echo "kimaki.service:7: Unknown key name \'Bogus\'" >&2; exit 1');
    const r = runBin(install(root), { env: { BRIDGECTL_SYSTEMD_ANALYZE: analyze.bin } });
    expect(r.stderr).toContain('kimaki.service fails systemd-analyze verify');
    expect(r.code).toBe(1);
    expect(dirs(root)).toEqual(before);
  });

  it('sudo-mode install refused by php -l: no /usr/local/lib/bridgectl, no /etc/sudoers.d, no mu-plugins', () => {
    const root = serverSandbox();
    const before = dirs(root);
    // The check waits (up to 10 s) until apply has staged a file, so its directories have been made, then fails.
    const staged = path.join(root, SITE, 'wp-content/mu-plugins');
    const listing = path.join(sandbox(), 'listing');
    const php = fakeAnalyze(`n=0; until ls -a ${staged} 2>/dev/null | grep -q '\\.tmp$' || [ $n -ge 200 ]; do sleep 0.05; n=$((n+1)); done; ls -a ${staged} >> ${listing}; echo "PHP Parse error: injected" >&2; exit 255`);
    const r = runBin(install(root, '--dispatch', 'sudo', '--init', 'none'), { env: { BRIDGECTL_PHP: php.bin } });
    expect(r.stderr).toContain('fails php -l');
    expect(r.code).toBe(1);
    expect(readFileSync(listing, 'utf8')).toContain('.tmp'); // it was staged, so its directories had been made
    expect(dirs(root)).toEqual(before);
  });
});

describe('unit copies of a killed run', () => {
  const base = isRoot ? '/run/bridgectl-verify' : null; // the non-root base is under TMPDIR, set per test below

  it('are not in the system temp dir, and the next run removes them', async () => {
    const root = serverSandbox();
    const tmp = mkdtempSync(path.join(tmpdir(), 'bridgectl-tmpdir-'));
    try {
      const analyze = fakeAnalyze('exec sleep 60');
      const child = spawn(process.execPath, [BIN, ...install(root)], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp, BRIDGECTL_SYSTEMD_ANALYZE: analyze.bin },
        stdio: 'ignore',
        detached: true, // its own process group, so the sleeping stand-in dies with it
      });
      const closed = new Promise((resolve) => child.on('close', resolve));
      for (let i = 0; i < 200 && !existsSync(analyze.seen); i++) await new Promise((r) => setTimeout(r, 50));
      process.kill(-(child.pid as number), 'SIGKILL');
      await closed;

      const copy = readFileSync(analyze.seen, 'utf8').trim();
      expect(path.basename(copy)).toBe('kimaki.service');
      const runDir = path.dirname(copy);
      expect(path.basename(runDir)).toMatch(new RegExp(`^${child.pid}-`));
      expect(path.dirname(runDir)).toBe(base ?? path.join(tmp, `bridgectl-verify-${process.geteuid?.() ?? ''}`));
      expect(existsSync(copy)).toBe(true); // the kill left it
      expect(readdirSync(tmp).filter((n) => n !== `bridgectl-verify-${process.geteuid?.() ?? ''}`)).toEqual([]); // nothing loose in TMPDIR
      expect(lstatSync(path.dirname(runDir)).mode & 0o777).toBe(0o700);

      const next = runBin(install(root), { env: { TMPDIR: tmp, BRIDGECTL_SYSTEMD_ANALYZE: fakeAnalyze('exit 0').bin } });
      expect(next.code).toBe(0);
      expect(existsSync(runDir)).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
