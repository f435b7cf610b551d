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
