/**
 * A command that may write, one way through: gather the facts and plan
 * without the lock; when the plan changes something, take the host lock,
 * read every fact the plan used again (refresh) and plan again only if one
 * changed; then apply, reload what the init system and PHP-FPM need, and
 * report. A run that would change nothing takes no lock and writes nothing.
 */
import path from 'node:path';
import { applyPlan, startVerify } from '../apply/apply.js';
import { changesPhp, holdHopRemovals, reloadPhpFpm, type FpmReloadResult } from '../apply/php-fpm.js';
import { reloadServices, stopRemovedUnits, type ReloadResult, type ServiceEnv, type ServiceFailure } from '../apply/services.js';
import { gather, refresh } from '../facts/gather.js';
import { prefetchFor } from './prefetch.js';
import { nodeHost } from '../facts/host.js';
import { resolveSite } from '../identity/identity.js';
import { ExitCode, UserError } from '../model/errors.js';
import type { Facts } from '../model/facts.js';
import type { IdentityFlags } from '../model/identity.js';
import type { Plan } from '../model/plan.js';
import { hasChanges } from '../plan/changes.js';
import { formatHuman, formatJson, redact } from '../report/report.js';
import type { Style } from '../report/style.js';
import { applyOptions, underLock } from './safety.js';
import type { SafetyArgs } from './types.js';

export interface MutationArgs extends SafetyArgs {
  json: boolean;
  quiet: boolean;
  reload?: boolean;
}

export interface MutationIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  fault?: (step: string, serverPath: string) => void;
  host?(root: string, env: Readonly<Record<string, string | undefined>>): Facts;
  services?: ServiceEnv;
}

/** Plan, then (unless --dry-run or nothing changes) lock, refresh, apply, reload; print the report; the exit code. */
export async function runMutation(
  command: string,
  args: MutationArgs,
  flags: IdentityFlags,
  io: MutationIo,
  style: Style,
  /** The live host's view, read before the lock. */
  host: Facts,
  planOver: (facts: Facts) => Plan,
): Promise<number> {
  const root = path.resolve(args.root);
  const located = gather(host, (facts) => resolveSite(flags, facts));
  const site = located.value;
  const planned = gather(host, planOver, { from: located.snapshot, prefetch: prefetchFor(site) });
  let plan = planned.value;
  let reload: ReloadResult | undefined;
  let fpm: FpmReloadResult | undefined;
  if (!args.dryRun && hasChanges(plan)) {
    // The checks (php -l, systemd-analyze) run while the lock is taken and the files staged.
    const verify = startVerify(plan, root, io.env);
    // Under the lock, what the plan was made from is read again: the same
    // answers mean the same plan; a writer that ran in between means a new one.
    plan = await underLock(args, async () => {
      const fresh = (io.host ?? nodeHost)(root, io.env);
      const refreshed = refresh(planned.snapshot, fresh);
      const locked = refreshed.same ? plan : gather(fresh, planOver, { from: refreshed.snapshot }).value;
      const reloading = args.reload !== false;
      if (reloading) {
        // A unit is stopped and disabled while its file still says what it is; a failure here leaves every file as it was.
        const stopped = await stopRemovedUnits(locked.changes, root, io.services);
        if (!args.quiet) for (const line of stopped.ran) io.stderr(`ran: ${line}\n`);
        if (stopped.failed) {
          throw new UserError(
            `\`${stopped.failed.command}\` failed: ${stopped.failed.status}; nothing was written`,
            'see systemctl\'s message above; stop and disable the unit by hand and run again, or pass --no-reload to remove the files without systemctl',
          );
        }
      }
      // On the live host the sudo hop's files go only once PHP-FPM reloaded (php-fpm.ts).
      const { now, held } = root === (io.services?.liveRoot ?? '/') ? holdHopRemovals(locked) : { now: locked, held: [] };
      // The checks' verdicts stand only for the host they ran against: a host that changed in between is checked again.
      const applied = await applyPlan(now, root, { ...applyOptions(args, io), ...(refreshed.same ? { verify } : {}) });
      const withNotes = applied.notes.length ? { ...locked, notes: [...locked.notes, ...applied.notes] } : locked;
      if (reloading) reload = await reloadServices(locked.changes, root, command === 'install', io.services);
      fpm = await reloadPhpFpm(fresh, root, { reload: reloading, needed: changesPhp(locked.changes) || held.length > 0 }, io.services);
      if (held.length === 0) return withNotes;
      if (fpm.settled) {
        const removed = await applyPlan({ ...now, changes: held, directories: [] }, root, applyOptions(args, io));
        return { ...withNotes, notes: [...withNotes.notes, ...removed.notes] };
      }
      fpm = {
        ...fpm,
        notes: [
          ...fpm.notes,
          `left ${held.map((c) => c.path).join(', ')} in place: PHP-FPM was not reloaded, so a worker may still run a cached channels file that points at the wrapper; run the same command again, with --reload, to reload PHP-FPM and remove them`,
        ],
      };
      const kept = held.map((c) => ({ ...c, status: 'unchanged' as const, after: c.before }));
      return { ...withNotes, changes: withNotes.changes.map((c) => kept.find((k) => k.path === c.path) ?? c) };
    });
  }
  return report(command, args, io, style, site, plan, reload, fpm);
}

function report(command: string, args: MutationArgs, io: MutationIo, style: Style, site: string, plan: Plan, reload: ReloadResult | undefined, fpm: FpmReloadResult | undefined): number {
  // The init system's progress and notes go to stderr so --json keeps stdout to one document.
  const fpmNotes = [...(fpm?.reloaded.length ? [`reloaded PHP-FPM, so OPcache drops the old PHP files: ${fpm.reloaded.join(', ')}`] : []), ...(fpm?.notes ?? [])];
  const serviceNotes = [...(reload?.skipped ? [reload.skipped] : []), ...(reload?.hints ?? []), ...fpmNotes];
  if (!args.quiet) {
    for (const line of reload?.ran ?? []) io.stderr(`ran: ${line}\n`);
    for (const note of serviceNotes) io.stderr(`note: ${note}\n`);
    // Human output lists the plan's notes on stdout with the files; --json keeps them in the document and says them on stderr too.
    if (args.json) for (const note of plan.notes) io.stderr(redact(`note: ${note}\n`, plan.secrets));
  }
  const failed = (reload?.failed && reloadFailure(reload.failed)) || fpm?.failed;
  const code = failed ? ExitCode.failure : ExitCode.ok;
  if (args.json) {
    const reported = { ...plan, notes: [...plan.notes, ...serviceNotes] };
    io.stdout(formatJson({ command, exitCode: code, dryRun: args.dryRun, site, plan: reported, ...(failed ? { error: failed } : {}) }));
  } else if (!args.quiet) {
    io.stdout(formatHuman(plan, { command, dryRun: args.dryRun, style }));
  }
  if (failed) {
    io.stderr(`bridgectl: ${failed.message}\n  fix: ${failed.fix}\n`);
  }
  return code;
}

/**
 * A systemctl command that failed after the files were written: nothing is
 * undone (the files are what the command asked for), so the message says
 * the files are in place and what is left to do by hand.
 */
function reloadFailure(failure: ServiceFailure): { message: string; fix: string } {
  return {
    message: `files were written; \`${failure.command}\` failed: ${failure.status}`,
    fix: `see systemctl's message above, then run by hand: ${failure.remaining.join(' && ')} (running bridgectl again changes nothing)`,
  };
}
