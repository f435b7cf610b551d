/**
 * Validate new content before it replaces a managed file: `php -l` for PHP,
 * `systemd-analyze verify` for systemd units, `plutil -lint` for launchd
 * plists — each only when the tool exists on this machine, and only for
 * content that is about to be written (a no-op run spawns nothing).
 *
 * Binaries come from PATH; BRIDGECTL_PHP, BRIDGECTL_SYSTEMD_ANALYZE and
 * BRIDGECTL_PLUTIL name another one, or `none` to skip that check.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Validation {
  /** Why the content must not be written; undefined when it may. */
  error?: string;
  /** Findings that do not block the write. */
  warnings: string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

const OK: Validation = { warnings: [] };

/** Which check applies to a server path, if any. */
export function validatorFor(serverPath: string): 'php' | 'systemd' | 'plist' | undefined {
  if (serverPath.endsWith('.php')) return 'php';
  if (/^\/(etc|lib|usr\/lib|run)\/systemd\/(system|user)\/[^/]+\.(service|socket|timer|path|mount|target)$/.test(serverPath)) return 'systemd';
  if (serverPath.endsWith('.plist')) return 'plist';
  return undefined;
}

/**
 * Check `file` (the staged temp file, already holding the new bytes) as the
 * content of `serverPath`. `root` is --root: on a sandbox root the unit's
 * ExecStart names a binary on the server, not on this machine.
 */
export function validateStaged(serverPath: string, file: string, content: string, root: string, env: Env): Validation {
  switch (validatorFor(serverPath)) {
    case 'php':
      return phpLint(serverPath, file, env);
    case 'systemd':
      return systemdVerify(serverPath, content, root, env);
    case 'plist':
      return plutilLint(serverPath, file, env);
    default:
      return OK;
  }
}

function binary(env: Env, variable: string, fallback: string): string | undefined {
  const value = env[variable];
  if (value === 'none' || value === '') return undefined;
  return value ?? fallback;
}

/** node:child_process and node:os are loaded on first use, not at startup: a no-op run validates nothing. */
function run(file: string, args: string[]): { status: number | null; output: string } | undefined {
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // not installed: skip
  if (r.error) return { status: 1, output: `${file}: ${r.error.message}` };
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function phpLint(serverPath: string, file: string, env: Env): Validation {
  const php = binary(env, 'BRIDGECTL_PHP', 'php');
  if (!php) return OK;
  // -n: no php.ini (no auto_prepend_file, no extensions to load); lint only parses and compiles.
  const r = run(php, ['-n', '-d', 'display_errors=1', '-l', file]);
  if (!r || r.status === 0) return OK;
  const why = r.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('Errors parsing'))
    .join('; ')
    .split(file)
    .join(serverPath);
  return { error: `new content of ${serverPath} fails php -l: ${why || `exit ${r.status}`}`, warnings: [] };
}

function plutilLint(serverPath: string, file: string, env: Env): Validation {
  const plutil = binary(env, 'BRIDGECTL_PLUTIL', 'plutil');
  if (!plutil) return OK;
  const r = run(plutil, ['-lint', file]);
  if (!r || r.status === 0) return OK;
  return { error: `new content of ${serverPath} fails plutil -lint: ${r.output.trim().split(file).join(serverPath)}`, warnings: [] };
}

/**
 * systemd-analyze verify on a copy carrying the unit's real name (it derives
 * the unit type and name from the file name) in a private temp dir. It also
 * checks that ExecStart binaries exist: on --root / that is a real error
 * (the unit would fail to start); on a sandbox root the binary is a server
 * path that need not exist on this machine, so that finding is dropped.
 * Complaints about *other* units (a minimal container lacking
 * sysinit.target…) are about this machine, not the new file: warnings on
 * --root /, dropped on a sandbox root.
 */
function systemdVerify(serverPath: string, content: string, root: string, env: Env): Validation {
  const analyze = binary(env, 'BRIDGECTL_SYSTEMD_ANALYZE', 'systemd-analyze');
  if (!analyze) return OK;
  const unit = path.posix.basename(serverPath);
  const { tmpdir } = process.getBuiltinModule('node:os') as typeof import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-verify-'));
  try {
    const copy = path.join(dir, unit);
    writeFileSync(copy, content, { mode: 0o600 });
    const r = run(analyze, ['verify', '--man=no', copy]);
    if (!r) return OK;
    const findings = r.output
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => l.split(copy).join(serverPath));
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const line of findings) {
      const missingBinary = /is not executable: No such file or directory$/.test(line);
      const otherUnit = /Unit (\S+) not found/.exec(line);
      // On a sandbox root both are facts about this machine, not the new file: expected, not worth a word.
      if (root !== '/' && (missingBinary || otherUnit)) continue;
      if ((otherUnit && otherUnit[1] !== unit) || r.status === 0) warnings.push(line);
      else errors.push(line);
    }
    if (r.status !== 0 && errors.length > 0) {
      return { error: `new content of ${serverPath} fails systemd-analyze verify: ${errors.join('; ')}`, warnings };
    }
    return { warnings: warnings.map((w) => `systemd-analyze verify ${serverPath}: ${w}`) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
