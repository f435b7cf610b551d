/** Which init system runs this machine (not the --root's): systemd when /run/systemd/system exists, as sd_booted(3) tells. */
import { existsSync } from 'node:fs';

export function systemdIsRunning(): boolean {
  return existsSync('/run/systemd/system');
}
