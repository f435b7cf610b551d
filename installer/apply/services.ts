/**
 * Telling the live init system about changed definitions. Only ever on the
 * real machine (--root /), never in a sandbox, and skippable (--no-reload).
 * The commands run through the process runner (installer/process/run.ts),
 * their output on our stderr.
 *
 * These commands run after the files were written, so a failing one cannot
 * undo anything: it is reported (command and exit status) and the caller
 * says that the files are in place.
 */
import { systemdIsRunning } from '../facts/init-system.js';
import path from 'node:path';
import type { FileChange } from '../model/plan.js';
import type { RunResult, Runner } from '../model/process.js';
import { processRunner } from '../process/run.js';

/** The machine the service commands act on; tests replace every part of it. */
export interface ServiceEnv {
  /** Starts the commands (default: the real runner). */
  runner?: Runner;
  /** Whether systemd is the running init (default: /run/systemd/system exists). */
  systemdRunning?: () => boolean;
  /**
   * The --root that is this machine: '/'. Tests name a sandbox root, so the
   * live path runs (with a fake exec) without touching the real host.
   */
  liveRoot?: string;
  /** A running process's name and owner, from the machine's /proc (never under --root); undefined when it is gone. */
  processOf?: (pid: number) => { comm: string; uid: number } | undefined;
}

export interface ServiceFailure {
  /** The command as run, e.g. `systemctl daemon-reload`. */
  command: string;
  /** `exit status 1`, `killed by SIGTERM`, or why it could not run. */
  status: string;
  /** The failed command and the ones after it, which were not run: what is left to do by hand. */
  remaining: string[];
}

export interface ReloadResult {
  ran: string[];
  skipped?: string;
  /** The first command that failed; the ones after it were not run. */
  failed?: ServiceFailure;
  /** What the operator does next (start a unit that was only enabled). */
  hints?: string[];
}

/**
 * Run one service command: no stdin, its output on our stderr, never our
 * stdout (--json keeps stdout to one document). Never throws for a failing
 * command.
 */
export function runServiceCommand(env: ServiceEnv, file: string, args: readonly string[]): Promise<RunResult> {
  return (env.runner ?? processRunner).run(file, args, { output: 'stderr' });
}

/** How a command ended, when not with exit status 0: `exit status 1`, `killed by SIGTERM`, or why it could not run. */
function howItEnded(r: RunResult): string | undefined {
  if (r.status === 0) return undefined;
  if (r.status !== null) return `exit status ${r.status}`;
  if (r.signal !== undefined) return `killed by ${r.signal}`;
  return `could not run: ${r.error ?? 'unknown error'}`;
}

const UNIT_DIR = '/etc/systemd/system/';

function changedUnits(changes: readonly FileChange[]): FileChange[] {
  return changes.filter((c) => c.status !== 'unchanged' && c.path.startsWith(UNIT_DIR));
}

const unitName = (c: FileChange): string => path.posix.basename(c.path);

function systemdRunning(env: ServiceEnv): boolean {
  return (env.systemdRunning ?? systemdIsRunning)();
}

/**
 * Before the plan is applied: stop and disable every unit it removes
 * (uninstall, an --init switch), while its file is still there to say what
 * to stop. Removed first, a unit would keep running with no definition.
 */
export async function stopRemovedUnits(changes: readonly FileChange[], root: string, env: ServiceEnv = {}): Promise<ReloadResult> {
  const removed = changedUnits(changes).filter((c) => c.status === 'remove').map(unitName);
  // Not running: nothing to stop (reloadServices says that it skipped).
  if (removed.length === 0 || root !== (env.liveRoot ?? '/') || !systemdRunning(env)) return { ran: [] };
  return runAll([['disable', '--now', ...removed]], env);
}

/**
 * After the plan is applied: daemon-reload; on install enable the new units
 * (not start them: a bridge needs onboarding first); try-restart the units
 * whose content changed, so a running bridge picks up its new pins (a
 * stopped one stays stopped).
 */
export async function reloadServices(changes: readonly FileChange[], root: string, enable: boolean, env: ServiceEnv = {}): Promise<ReloadResult> {
  const units = changedUnits(changes);
  const plists = changes.filter((c) => c.status !== 'unchanged' && c.path.endsWith('.plist'));
  // A sandbox root has no init system to tell: that is the point of --root, not something to report.
  if ((units.length === 0 && plists.length === 0) || root !== (env.liveRoot ?? '/')) return { ran: [] };
  const commands: string[][] = [];
  const hints: string[] = [];
  if (units.length > 0) {
    if (!systemdRunning(env)) {
      return { ran: [], skipped: 'systemd is not running here: no daemon-reload; the units are read when it starts' };
    }
    commands.push(['daemon-reload']);
    const added = units.filter((c) => c.status === 'create').map(unitName);
    if (enable && added.length > 0) {
      commands.push(['enable', ...added]);
      hints.push(`${added.join(', ')} enabled, not started: onboard the bridge first, then systemctl start ${added.join(' ')}`);
    }
    const rewritten = units.filter((c) => c.status === 'update' && c.before !== c.after).map(unitName);
    if (rewritten.length > 0) commands.push(['try-restart', ...rewritten]);
  }
  const result = await runAll(commands, env);
  if (result.failed) return result;
  if (hints.length > 0) result.hints = hints;
  // launchd agents belong to a GUI session bridgectl cannot see from a deploy hook.
  if (plists.length > 0) result.skipped = 'launchd agents are loaded by their user: launchctl bootstrap gui/$(id -u) <plist>';
  return result;
}

/** Run systemctl commands in order, stopping at the first that fails (the later ones depend on it). */
async function runAll(commands: readonly string[][], env: ServiceEnv): Promise<ReloadResult> {
  const ran: string[] = [];
  for (const [i, args] of commands.entries()) {
    const command = ['systemctl', ...args].join(' ');
    ran.push(command);
    const status = howItEnded(await runServiceCommand(env, 'systemctl', args));
    if (status !== undefined) {
      return { ran, failed: { command, status, remaining: commands.slice(i).map((a) => ['systemctl', ...a].join(' ')) } };
    }
  }
  return { ran };
}
