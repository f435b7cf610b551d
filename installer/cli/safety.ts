/**
 * The CLI side of write safety: the options (--lock-timeout, --backup,
 * --allow-symlinked-dirs), the host lock around mutating commands, and the
 * options handed to applyPlan.
 */
import path from 'node:path';
import type { ApplyOptions } from '../apply/apply-types.js';
import { UsageError } from '../model/errors.js';
import { DEFAULT_LOCK_TIMEOUT, withLock } from '../apply/lock.js';
import { commandWrites } from './commands/index.js';
import type { OptionSet, SafetyArgs } from './types.js';
import { seconds } from './options.js';

interface SafetyIo {
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  fault?: ApplyOptions['fault'];
}

/** The write-safety options: only commands that may write take them (parser.ts adds them after the command's own). */
export const safetyOptions: OptionSet = {
  options: {
    'lock-timeout': seconds('lock-timeout', 'Seconds to wait for another bridgectl run holding the host lock (flock on /run/bridgectl); 0 = fail at once', DEFAULT_LOCK_TIMEOUT),
    backup: { type: 'boolean', default: false, describe: 'Keep the previous version of each changed file beside it as .<name>.<UTC time>.bridgectl-bak (0600)' },
    'allow-symlinked-dirs': {
      type: 'boolean',
      default: false,
      describe: 'Write through symlinked directories below --site (e.g. wp-content -> shared/wp-content); a symlinked file is always refused',
    },
  },
};

/**
 * Whether this run may write: the registry says which commands do (a
 * command is taken as writing unless it says otherwise), and --dry-run never does.
 */
function isMutating(args: SafetyArgs): boolean {
  return !args.dryRun && commandWrites(args._);
}

/** Run a command, under the host lock when it may write: planning and applying then see one consistent state. */
export async function underLock<T>(args: SafetyArgs, work: () => Promise<T>): Promise<T> {
  if (!isMutating(args)) return work();
  const timeout = checkLockTimeout(args.lockTimeout ?? DEFAULT_LOCK_TIMEOUT);
  return withLock(path.resolve(args.root), { timeout, command: `bridgectl ${args._.join(' ')}` }, work);
}

/** A usable --lock-timeout, or a clear error (cli.ts checks it before any command runs, not only a run that writes). */
export function checkLockTimeout(timeout: number): number {
  if (Number.isFinite(timeout) && timeout >= 0) return timeout;
  // yargs has already turned a word into NaN: say what is wanted rather than echo "NaN".
  const got = Number.isNaN(timeout) ? 'not a number' : `got ${String(timeout)}`;
  throw new UsageError(`--lock-timeout takes a number of seconds, 0 or more (${got})`, 'e.g. --lock-timeout 120, or --lock-timeout 0 to fail at once when another run holds the lock');
}

export function applyOptions(args: SafetyArgs, io: SafetyIo): ApplyOptions {
  return {
    backup: args.backup === true,
    allowSymlinkedDirs: args.allowSymlinkedDirs === true,
    env: io.env,
    info: (line) => {
      if (!args.quiet) io.stderr(`${line}\n`);
    },
    warn: (line) => io.stderr(`warning: ${line}\n`),
    ...(io.fault ? { fault: io.fault } : {}),
  };
}
