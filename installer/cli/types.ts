/**
 * What the command modules and the CLI share: the io, the parsed argv, and
 * the shape of a command. Apart from cli.ts so commands/* can name them
 * without importing the module that imports them.
 */
import type { Argv, Options, PositionalOptions } from 'yargs';
import type { ServiceEnv } from '../apply/services.js';
import type { Facts } from '../model/facts.js';
import type { IdentityFlags } from '../model/identity.js';
import type { Plan } from '../model/plan.js';
import type { DispatchMode } from '../model/dispatch.js';
import type { InitSystem } from '../model/service.js';
import type { Style } from '../report/style.js';
import type { RawInput } from './input.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal: colour only then (and never with NO_COLOR). */
  isTTY?: boolean;
  /** The terminal's width when stdout is one: doctor wraps its lines to it (report/wrap.ts). */
  columns?: number;
  /** Tests: inject a failure at a commit step (ApplyOptions.fault). */
  fault?: (step: string, serverPath: string) => void;
  /** Builds the host view for a --root; tests may replace it. */
  host?(root: string, env: Readonly<Record<string, string | undefined>>): Facts;
  /** The init system's commands (systemctl); tests replace them. */
  services?: ServiceEnv;
  /** The raw bytes of argv and the environment, to tell invalid UTF-8 from a real U+FFFD (input.ts). */
  raw?: RawInput;
  /** The effective uid (default process.geteuid()); tests pretend not to be root. */
  uid?: number;
}

/** What the write-safety options (safety.ts) read from argv. */
export interface SafetyArgs {
  root: string;
  dryRun: boolean;
  quiet?: boolean;
  lockTimeout?: number;
  backup?: boolean;
  allowSymlinkedDirs?: boolean;
  _: (string | number)[];
}

interface GlobalArgs {
  root: string;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
}

export interface IdentityArgs {
  init?: InitSystem;
  reload?: boolean;
  site?: string;
  skipWordpressCheck?: boolean;
  allowMissingBinary?: boolean;
  serviceUser?: string;
  runAsRoot?: boolean;
  dataDir?: string;
  binary?: string[];
  curl?: string;
  /** Repeatable: the first is the web user (a secret file's group); sudo mode grants them all. */
  webUser?: string[];
  // --dispatch and the sudo hop (plan/sudo-hop.ts, render/sudo-hop.ts)
  dispatch?: DispatchMode;
  sudoRegex?: boolean;
}

interface ChannelArgs {
  name?: string;
  command?: string;
  arg?: string[];
  env?: string[];
  detach?: boolean;
  timeout?: number;
}

export type Parsed = GlobalArgs &
  IdentityArgs &
  ChannelArgs &
  SafetyArgs & { _: (string | number)[]; bridge?: string[]; home?: string; out?: string };

/** Options that show in help under one heading (none: yargs' "Options:"). */
export interface OptionSet {
  group?: string;
  options: Readonly<Record<string, Options>>;
}

/** What a command's handler gets: the parsed argv, the io, and the target as flags and facts. */
export interface CommandContext {
  args: Parsed;
  io: Io;
  style: Style;
  identity: IdentityFlags;
  /** The target's facts, read when first asked (render never asks). */
  host(): Facts;
}

/**
 * One command (or subcommand): everything yargs, help, completion and the
 * lock need to know about it. A command that may write gives `plan` (cli.ts
 * runs it through plan -> lock -> apply -> reload); one that reads gives `run`.
 */
export interface CommandSpec {
  /** The yargs command: its name, then its positionals (`set <name>`). */
  command: string;
  describe: string;
  /** Its options, in the order help lists them. */
  options: readonly OptionSet[];
  positionals?: Readonly<Record<string, PositionalOptions>>;
  examples?: readonly (readonly [string, string])[];
  epilogue?: string;
  /** Whether it may write (then, unless --dry-run, it runs under the host lock). */
  writes: boolean;
  /** Reads nothing from the target: no host is built, --lock-timeout is not checked (render). */
  flagsOnly?: boolean;
  /**
   * Needs root on the live host though it does not write (check: it reads
   * what install wrote, secret files and /root included). A command that
   * writes always does.
   */
  needsRoot?: boolean;
  subcommands?: readonly CommandSpec[];
  /** The message when a command with subcommands is given none. */
  demandSubcommand?: string;
  plan?(args: Parsed, identity: IdentityFlags, host: Facts): Plan;
  run?(ctx: CommandContext): number | Promise<number>;
  /** Prints from yargs itself, while parsing (completion's script). */
  duringParse?(parser: Argv): void;
}

/** A command's name: the first word of its yargs command. */
export function commandName(spec: CommandSpec): string {
  return spec.command.split(' ')[0] as string;
}
