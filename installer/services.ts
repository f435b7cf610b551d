/**
 * Telling the live init system about changed definitions. Only ever on the
 * real machine (--root /), never in a sandbox, and skippable (--no-reload).
 * execa is imported here, lazily: it costs ~50 ms to load and most runs
 * never need it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FileChange } from './plan.js';

export interface ReloadResult {
  ran: string[];
  skipped?: string;
}

export async function reloadServices(changes: readonly FileChange[], root: string, enable: boolean): Promise<ReloadResult> {
  const units = changes.filter((c) => c.status !== 'unchanged' && c.path.startsWith('/etc/systemd/system/'));
  const plists = changes.filter((c) => c.status !== 'unchanged' && c.path.endsWith('.plist'));
  if (units.length === 0 && plists.length === 0) return { ran: [] };
  if (root !== '/') return { ran: [], skipped: `not under --root ${root}` };
  const { execa } = await import('execa');
  const ran: string[] = [];
  const run = async (file: string, args: string[]): Promise<void> => {
    ran.push([file, ...args].join(' '));
    await execa(file, args, { stdio: 'inherit' });
  };
  if (units.length > 0) {
    if (!existsSync('/run/systemd/system')) return { ran, skipped: 'systemd is not running' };
    await run('systemctl', ['daemon-reload']);
    const added = units.filter((c) => c.status === 'create').map((c) => path.posix.basename(c.path));
    if (enable && added.length > 0) await run('systemctl', ['enable', ...added]);
  }
  if (plists.length > 0) {
    // launchd agents belong to a GUI session bridgectl cannot see from a deploy hook.
    return { ran, skipped: 'launchd agents are loaded by their user: launchctl bootstrap gui/$(id -u) <plist>' };
  }
  return { ran };
}
