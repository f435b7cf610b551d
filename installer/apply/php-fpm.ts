/**
 * PHP-FPM must see what bridgectl wrote (#16 item 4). OPcache keeps the old
 * channels file for up to revalidate_freq seconds, and with
 * opcache.validate_timestamps=0 (common in production) until PHP-FPM
 * reloads. So after a run on the live host that changed a PHP file,
 * bridgectl reloads the PHP-FPM services that serve the site — found from
 * the pools, as the web user is (facts/php-fpm.ts) — and says what it reloaded.
 *
 * How: `systemctl try-reload-or-restart php<ver>-fpm` when systemd runs (a
 * reload, and nothing for a stopped service: a master that is not running
 * caches nothing); otherwise SIGUSR2 to the master whose pid the version's
 * php-fpm.conf `pid =` file holds (a container or the e2e tier: no systemd
 * as PID 1), a note when there is no pid. A graceful reload: workers finish
 * their request, new ones start with empty caches. No pool at all (mod_php,
 * CGI): nothing bridgectl knows of caches PHP, nothing is said.
 *
 * The sudo hop's files (wrapper, target, grant) are removed, when a run
 * switches a bridge to direct or uninstalls it, only after a successful
 * reload: until then a worker may still run a cached config that points at
 * the wrapper. Without one they stay, and the next run removes them.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Facts } from '../model/facts.js';
import type { FileChange, Plan } from '../model/plan.js';
import { runServiceCommand, type ServiceEnv } from './services.js';
import { isHopPath } from '../lib/paths.js';
import { fpmServices, type FpmService } from '../facts/php-fpm.js';

/** Whether the plan rewrites, creates or removes a PHP file (the channels or transport mu-plugin). */
export function changesPhp(changes: readonly FileChange[]): boolean {
  return changes.some((c) => c.status !== 'unchanged' && c.path.endsWith('.php'));
}

/** The plan split: what is applied now, and the hop removals that wait for a reload. */
export function holdHopRemovals(plan: Plan): { now: Plan; held: FileChange[] } {
  const held = plan.changes.filter((c) => c.status === 'remove' && isHopPath(c.path));
  return { now: { ...plan, changes: plan.changes.filter((c) => !held.includes(c)) }, held };
}

/** The command that reloads one service, as run and as printed for --no-reload. */
export function reloadCommand(service: FpmService, systemd: boolean, host: Facts, processOf = liveProcess): { file: string; args: string[]; text: string } | { error: string } | { stopped: string } {
  if (systemd) return { file: 'systemctl', args: ['try-reload-or-restart', service.unit], text: `systemctl try-reload-or-restart ${service.unit}` };
  if (!service.pidFile) return { error: `/etc/php/${service.version}/fpm/php-fpm.conf names no pid file` };
  const pid = host.readText(service.pidFile)?.trim();
  // php-fpm removes its pid file on exit: none means no master, and no cache to drop.
  if (pid === undefined || pid === '') return { stopped: `${service.unit} is not running (no pid in ${service.pidFile}): nothing to reload` };
  if (!/^[1-9][0-9]*$/.test(pid)) return { error: `${service.pidFile} does not hold a pid` };
  // A pid file a crashed master left behind can name a reused pid, and SIGUSR2 ends most processes: signal only a root php-fpm.
  const proc = processOf(Number(pid));
  if (proc === undefined) return { stopped: `${service.unit} is not running (${service.pidFile} names pid ${pid}, which is gone): nothing to reload` };
  if (!proc.comm.startsWith('php-fpm') || proc.uid !== 0) {
    return { error: `${service.pidFile} names pid ${pid}, which is not a php-fpm master run by root (${JSON.stringify(proc.comm)}, uid ${proc.uid}); a stale pid file?` };
  }
  return { file: 'kill', args: ['-USR2', pid], text: `kill -USR2 ${pid}` };
}

/** A process of this machine (the live host's /proc: a pid is never under --root). */
function liveProcess(pid: number): { comm: string; uid: number } | undefined {
  try {
    return { comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), uid: statSync(`/proc/${pid}`).uid };
  } catch {
    return undefined;
  }
}

/** What to run by hand (--no-reload, or after a failure). */
export function manualCommand(service: FpmService, systemd: boolean): string {
  if (systemd) return `systemctl try-reload-or-restart ${service.unit}`;
  return service.pidFile ? `kill -USR2 "$(cat ${service.pidFile})"` : `kill -USR2 <pid of the ${service.unit} master>`;
}

export interface FpmReloadResult {
  /** Each service reloaded, as `php8.2-fpm (systemctl reload php8.2-fpm)`. */
  reloaded: string[];
  /** Notes for the operator (what was not done and what to run). */
  notes: string[];
  /** The first reload that failed: the run's error. */
  failed?: { message: string; fix: string };
  /** Whether every served config is known to be the new one (hop files may go). */
  settled: boolean;
}

/**
 * Reload every PHP-FPM service after a run that changed a PHP file, or
 * before removing hop files. Only on the live host (`liveRoot`, '/' unless a
 * test names a sandbox), never under a sandbox --root.
 */
export async function reloadPhpFpm(host: Facts, root: string, options: { reload: boolean; needed: boolean }, env: ServiceEnv = {}): Promise<FpmReloadResult> {
  if (root !== (env.liveRoot ?? '/')) return { reloaded: [], notes: [], settled: true };
  if (!options.needed) return { reloaded: [], notes: [], settled: true };
  const services = fpmServices(host);
  // No pool: nothing bridgectl knows of caches the old file (mod_php, CGI); say so.
  if (services.length === 0) return { reloaded: [], notes: [], settled: true };
  const systemd = (env.systemdRunning ?? (() => host.stat('/run/systemd/system') !== undefined))();
  if (!options.reload) {
    return { reloaded: [], notes: [`PHP-FPM not reloaded (--no-reload): OPcache may serve the old file until you run: ${services.map((s) => manualCommand(s, systemd)).join(' && ')}`], settled: false };
  }
  const reloaded: string[] = [];
  const notes: string[] = [];
  for (const [i, service] of services.entries()) {
    const command = reloadCommand(service, systemd, host, env.processOf);
    if ('stopped' in command) {
      notes.push(command.stopped);
      continue;
    }
    const outcome = 'error' in command ? { status: null, error: command.error } : await runServiceCommand(env, command.file, command.args);
    if (outcome.status === 0) {
      reloaded.push(`${service.unit} (${'text' in command ? command.text : ''})`);
      continue;
    }
    const status = outcome.status !== null ? `exit status ${outcome.status}` : 'signal' in outcome && outcome.signal !== undefined ? `killed by ${outcome.signal}` : (outcome.error ?? 'unknown error');
    const what = 'text' in command ? `\`${command.text}\` failed: ${status}` : status;
    const left = services.slice(i).map((s) => manualCommand(s, systemd));
    return {
      reloaded,
      notes,
      settled: false,
      failed: {
        message: `files were written; reloading PHP-FPM failed: ${what}; OPcache may serve the old PHP files until it reloads`,
        fix: `run by hand: ${left.join(' && ')} (running bridgectl again reloads and finishes)`,
      },
    };
  }
  return { reloaded, notes, settled: true };
}
