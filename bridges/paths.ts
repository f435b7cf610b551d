/** PATH values for service definitions. Pure. */
import path from 'node:path';

/** Join directories into a PATH, dropping repeats (first one wins). */
export function searchPath(dirs: readonly string[]): string {
  return [...new Set(dirs)].join(':');
}

export function binDir(binary: string): string {
  return path.posix.dirname(binary);
}

/** The system directories every unit's PATH ends with. */
export const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];

/** launchd agents run with a bare PATH; Homebrew's prefix comes first on macOS. */
export const LAUNCHD_PATH = ['/opt/homebrew/bin', ...SYSTEM_PATH];

/**
 * A fixed PATH (what the bash installer wrote for cc-connect and telegram)
 * with the directories of the bridge's own binaries appended when they are
 * not already on it: for binaries in the usual places the value is exactly
 * the historical one, and a CLI installed under ~/.local/bin still finds the
 * tools installed beside it.
 */
export function fixedPathWith(base: readonly string[], binaries: readonly string[]): string {
  return searchPath([...base, ...binaries.map(binDir)]);
}
