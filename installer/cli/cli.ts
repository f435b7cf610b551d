/**
 * The only module that knows about argv. yargs parses and validates; each
 * command then runs as a plain function on typed options; `main` is the one
 * error boundary and maps outcomes to exit codes.
 */
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { applyPlan } from '../apply/apply.js';
import { ExitCode, hostError, IncompleteError, oneLine, serverPathOf, UsageError, UserError } from '../model/errors.js';
import { nodeHost, recordingHost } from '../facts/host.js';
import type { Host } from '../model/facts.js';
import { guardQuotes, refuseInvalidUtf8 } from './input.js';
import { resolveSite } from '../identity/identity.js';
import { type IdentityFlags } from '../model/identity.js';
import { type Plan } from '../model/plan.js';
import { hasChanges } from '../plan/changes.js';
import { reloadServices, stopRemovedUnits, type ReloadResult, type ServiceFailure } from '../apply/services.js';
import { changesPhp, holdHopRemovals, reloadPhpFpm, type FpmReloadResult } from '../apply/php-fpm.js';
import { applyOptions, checkLockTimeout, underLock } from './safety.js';
import { formatHuman, formatJson } from '../report/report.js';
import { colorWanted, makeStyle } from '../report/style.js';
import { COMMANDS, findCommand } from './commands/index.js';
import { pick } from './flags.js';
import { buildParser } from './parser.js';
import type { CommandSpec, Io, Parsed } from './types.js';

export type { Io } from './types.js';
export { COMMANDS } from './commands/index.js';

/** Environment variables bridgectl reads as values: each must be valid UTF-8 (input.ts). */
const ENV_READ = [
  'SITE_PATH', 'SERVICE_USER', 'RUN_AS_ROOT', 'WEB_USER', 'HOME',
  ...bridges.flatMap((b) => [b.dataDir.env, b.secret?.env].filter((e): e is string => e !== undefined)),
];

/** Run bridgectl; returns the exit code. Never throws, never exits the process. */
export async function main(rawArgv: string[], io: Io): Promise<number> {
  // Known before parsing, so even a usage error keeps --json's promise of one document on stdout.
  const json = rawArgv.includes('--json');
  const command = rawArgv.find((a) => COMMANDS.includes(a)) ?? '';
  let parsed: Parsed;
  let output = '';
  const argv = guardQuotes(rawArgv);
  try {
    refuseInvalidUtf8(rawArgv, io.env, ENV_READ, io.raw);
    parsed = (await buildParser(argv).parseAsync(argv, {}, (_err, _args, text) => {
      output = text;
    })) as unknown as Parsed;
  } catch (err) {
    return reportError(err, io, json ? command : undefined);
  }
  if (output) {
    // --help, --version or completion: yargs produced the text, we print it.
    io.stdout(output.endsWith('\n') ? output : `${output}\n`);
    return ExitCode.ok;
  }
  try {
    return await runCommand(String(parsed._[0]), parsed, io);
  } catch (err) {
    return reportError(err, io, json ? command : undefined, path.resolve(parsed.root ?? '/'));
  }
}

async function runCommand(command: string, args: Parsed, io: Io): Promise<number> {
  const style = makeStyle(colorWanted(io.isTTY, io.env));
  const spec = findCommand(args._);
  if (spec === undefined) throw new UsageError(`unknown command '${command}'`);
  const identity: IdentityFlags = pick(args);
  const root = path.resolve(args.root);
  if (!spec.flagsOnly && args.lockTimeout !== undefined) checkLockTimeout(args.lockTimeout);
  let read: Host | undefined;
  const target = (): Host => (read ??= (io.host ?? nodeHost)(root, io.env));
  if (spec.run) return spec.run({ args, io, style, identity, host: target });
  const host = target();
  const site = resolveSite(identity, host);
  const recorded = recordingHost(host);
  let plan = planMutation(spec, args, identity, recorded.host);
  let reload: ReloadResult | undefined;
  let fpm: FpmReloadResult | undefined;
  if (!args.dryRun && hasChanges(plan)) {
    // Only a run that will write takes the host lock, and what it writes is
    // planned from what it reads under the lock, so no concurrent writer's
    // update is lost: if the machine still answers every question the plan
    // asked as before, that plan stands; otherwise it plans again. A run that
    // would change nothing writes nothing and takes no lock: it is as if it
    // had run just before any concurrent writer.
    plan = await underLock(args, async () => {
      const fresh = (io.host ?? nodeHost)(root, io.env);
      const locked = recorded.sameAnswers(fresh) ? plan : planMutation(spec, args, identity, fresh);
      const live = args.reload !== false;
      if (live) {
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
      applyPlan(now, root, applyOptions(args, io));
      if (live) reload = await reloadServices(locked.changes, root, command === 'install', io.services);
      fpm = await reloadPhpFpm(fresh, root, { reload: live, needed: changesPhp(locked.changes) || held.length > 0 }, io.services);
      if (held.length === 0) return locked;
      if (fpm.settled) {
        applyPlan({ ...now, changes: held, directories: [] }, root, applyOptions(args, io));
        return locked;
      }
      fpm.notes.push(
        `left ${held.map((c) => c.path).join(', ')} in place: PHP-FPM was not reloaded, so a worker may still run a cached channels file that points at the wrapper; run the same command again, with --reload, to reload PHP-FPM and remove them`,
      );
      const kept = held.map((c) => ({ ...c, status: 'unchanged' as const, after: c.before }));
      return { ...locked, changes: locked.changes.map((c) => kept.find((k) => k.path === c.path) ?? c) };
    });
  }
  // The init system's progress and notes go to stderr so --json keeps stdout to one document.
  const fpmNotes = [...(fpm?.reloaded.length ? [`reloaded PHP-FPM, so OPcache drops the old PHP files: ${fpm.reloaded.join(', ')}`] : []), ...(fpm?.notes ?? [])];
  const serviceNotes = [...(reload?.skipped ? [reload.skipped] : []), ...(reload?.hints ?? []), ...fpmNotes];
  if (!args.quiet) {
    for (const line of reload?.ran ?? []) io.stderr(`ran: ${line}\n`);
    for (const note of serviceNotes) io.stderr(`note: ${note}\n`);
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

/** The plan of a command that may write: install, upgrade, uninstall, channel set/remove. */
function planMutation(spec: CommandSpec, args: Parsed, identity: IdentityFlags, host: Host): Plan {
  if (spec.plan === undefined) throw new UsageError(`unknown command '${String(args._.join(' '))}'`);
  return spec.plan(args, identity, host);
}

function reportError(caught: unknown, io: Io, jsonCommand?: string, root = '/'): number {
  const sys = caught as NodeJS.ErrnoException | null | undefined;
  // An OS refusal (EACCES, EROFS, ENOSPC…) is the operator's to fix, not a bug: one line naming the
  // server path (never a sandbox's host path or a temp file's name).
  const err =
    !(caught instanceof UserError) && typeof sys?.code === 'string' && typeof sys.syscall === 'string'
      ? hostError(caught, sys.syscall, sys.path ? serverPathOf(sys.path, root) : '(a file it had open)')
      : caught;
  const code = err instanceof IncompleteError ? ExitCode.incomplete : ExitCode.failure;
  if (jsonCommand !== undefined) {
    const error = err instanceof UserError ? { message: oneLine(err.message), ...(err.hint ? { fix: oneLine(err.hint) } : {}) } : { message: err instanceof Error ? err.message : String(err) };
    io.stdout(formatJson({ command: jsonCommand, exitCode: code, dryRun: true, error }));
  }
  if (err instanceof UserError) {
    io.stderr(`bridgectl: ${oneLine(err.message)}\n`);
    if (err.hint) io.stderr(`  fix: ${oneLine(err.hint)}\n`);
    if (err instanceof UsageError) io.stderr("  see 'bridgectl --help'\n");
    return code;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr(`bridgectl: internal error — please report this with the command you ran\n${stack}\n`);
  return ExitCode.failure;
}
