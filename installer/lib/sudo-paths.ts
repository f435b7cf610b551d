/** Where sudo and visudo live: searched in this order, never on the caller's PATH. Shared by doctor's probes and apply's visudo check. */

export const SUDO_PATHS = ['/usr/bin/sudo', '/bin/sudo', '/usr/local/bin/sudo', '/usr/sbin/sudo'];
export const VISUDO_PATHS = ['/usr/sbin/visudo', '/sbin/visudo', '/usr/bin/visudo', '/usr/local/sbin/visudo', '/usr/local/bin/visudo'];

/**
 * The first visudo at a fixed system path. Never from $PATH: a visudo
 * planted in a directory early on PATH would pass any drop-in unchecked
 * into /etc/sudoers.d (probeVisudo uses the same paths).
 */
export function findVisudo(candidates: readonly string[] = VISUDO_PATHS, exists: (p: string) => boolean = () => true): string | undefined {
  return candidates.find(exists);
}
