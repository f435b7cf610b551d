/**
 * The only module that knows about argv. yargs parses and validates; each
 * command then runs as a plain function on typed options; `main` is the one
 * error boundary and maps outcomes to exit codes.
 */
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { ExitCode, hostError, IncompleteError, oneLine, serverPathOf, UsageError, UserError } from '../model/errors.js';
import { nodeHost } from '../facts/host.js';
import type { Facts } from '../model/facts.js';
import { runMutation } from './mutate.js';
import { guardQuotes, refuseInvalidUtf8 } from './input.js';
import { type IdentityFlags } from '../model/identity.js';
import { type Plan } from '../model/plan.js';
import { checkLockTimeout } from './safety.js';
import { formatJson } from '../report/report.js';
import { colorWanted, makeStyle } from '../report/style.js';
import { COMMANDS, findCommand } from './commands/index.js';
import { pick } from './flags.js';
import { commandWords, optionValues, parseCommandLine, type CommandLine } from './parser.js';
import { helpTopic, rewriteHabits } from './habits.js';
import { completionShell } from './commands/completion.js';
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
  // One rule for --json's `command`: the words that name it ("install", "channel set"), "" for none.
  const command = commandWords(rawArgv).join(' ');
  let line: CommandLine;
  const topic = helpTopic(guardQuotes(rawArgv), optionValues);
  const argv = rewriteHabits(guardQuotes(rawArgv), optionValues);
  let restoreShell = (): void => {};
  try {
    refuseInvalidUtf8(rawArgv, io.env, ENV_READ, io.raw);
    // `help nosuch` would otherwise print the general help and exit 0.
    if (topic !== undefined && commandWords(topic).length < topic.length) {
      throw new UsageError(`help: bridgectl has no command '${topic.join(' ')}'`, `the commands: ${COMMANDS.join(', ')}; e.g. bridgectl help install`);
    }
    restoreShell = completionShell(argv);
    line = await parseCommandLine(argv);
  } catch (err) {
    return reportError(err, io, json ? command : undefined, '/', argv);
  } finally {
    restoreShell();
  }
  if ('output' in line) {
    // --help, --version or completion: yargs produced the text, we print it.
    io.stdout(line.output.endsWith('\n') ? line.output : `${line.output}\n`);
    return ExitCode.ok;
  }
  const parsed = line.parsed;
  try {
    return await runCommand(parsed._.map(String).join(' '), parsed, io);
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
  refuseNonRoot(spec, args, root, io);
  if (!spec.flagsOnly && args.lockTimeout !== undefined) checkLockTimeout(args.lockTimeout);
  let read: Facts | undefined;
  const target = (): Facts => (read ??= (io.host ?? nodeHost)(root, io.env));
  if (spec.run) return spec.run({ args, io, style, identity, host: target });
  return runMutation(command, args, identity, io, style, target(), (facts) => planMutation(spec, args, identity, facts));
}

/**
 * On the live host a command that writes (or reads root's files) needs root:
 * said in one line before anything is read or locked, rather than an EACCES
 * from the lock or from a probe under /root. A sandbox (--root DIR) is the
 * invoker's own, so it needs nothing.
 */
function refuseNonRoot(spec: CommandSpec, args: Parsed, root: string, io: Io): void {
  if (root !== '/' || spec.flagsOnly || !(spec.writes || spec.needsRoot)) return;
  const uid = io.uid ?? process.geteuid?.() ?? 0;
  if (uid === 0) return;
  const name = args._.map(String).join(' ');
  throw new UserError(`${name} needs root on the live host: run it as root (sudo bridgectl ${name} ...), or pass --root DIR to work on a sandbox`);
}

/** The plan of a command that may write: install, upgrade, uninstall, channel set/remove. */
function planMutation(spec: CommandSpec, args: Parsed, identity: IdentityFlags, host: Facts): Plan {
  if (spec.plan === undefined) throw new UsageError(`unknown command '${String(args._.join(' '))}'`);
  return spec.plan(args, identity, host);
}

function reportError(caught: unknown, io: Io, jsonCommand?: string, root = '/', argv: readonly string[] = []): number {
  const sys = caught as NodeJS.ErrnoException | null | undefined;
  // An OS refusal (EACCES, EROFS, ENOSPC…) is the operator's to fix, not a bug: one line naming the
  // server path (never a sandbox's host path or a temp file's name).
  const err =
    !(caught instanceof UserError) && typeof sys?.code === 'string' && typeof sys.syscall === 'string'
      ? hostError(caught, sys.syscall, sys.path ? serverPathOf(sys.path, root) : '(a file it had open)')
      : caught;
  const code = err instanceof IncompleteError ? ExitCode.incomplete : ExitCode.failure;
  if (jsonCommand !== undefined) {
    const error = err instanceof UserError ? { message: err.message, ...(err.hint ? { fix: err.hint } : {}) } : { message: err instanceof Error ? err.message : String(err) };
    io.stdout(formatJson({ command: jsonCommand, exitCode: code, dryRun: true, error }));
  }
  if (err instanceof UserError) {
    io.stderr(`bridgectl: ${oneLine(err.message)}\n`);
    if (err.hint) io.stderr(`  fix: ${oneLine(err.hint)}\n`);
    // A usage error without a fix of its own points at the help of the command it was for.
    if (err instanceof UsageError && !err.hint) io.stderr(`  see '${helpFor(argv)}'\n`);
    return code;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr(`bridgectl: internal error — please report this with the command you ran\n${stack}\n`);
  return ExitCode.failure;
}

/** `bridgectl channel set --help` for a run that named channel set; `bridgectl --help` when it named no command. */
function helpFor(argv: readonly string[]): string {
  const words = commandWords(argv);
  return ['bridgectl', ...words, '--help'].join(' ');
}
