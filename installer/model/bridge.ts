import type { ChannelSpec } from './channel.js';
import type { Identity } from './identity.js';
import type { SudoHopSpec } from './sudo.js';
import type { ServiceSpec } from './service.js';

/**
 * A bridge is data plus pure functions: no fs, no processes. The engine
 * resolves one Identity per bridge and renders every file the bridge owns
 * from it, in one run — so the channel block and the service unit cannot
 * disagree (the seed's root cause).
 */
export interface BridgeDefinition {
  id: string;
  title: string;
  /** The bridge's own CLI, looked up on the binary search path; `--binary PATH` overrides it. */
  binaryName: string;
  /**
   * Other executables its services run (telegram: the `opencode` server),
   * found and adopted like binaryName; `--binary NAME=PATH` overrides one.
   */
  serviceBinaries?: readonly string[];
  /**
   * The executable the channel block runs when it is not the bridge's CLI
   * (telegram: curl). Resolved only when a channel block is written, so a
   * missing one never blocks installing the services.
   */
  channelBinary?: string;
  /** Where the bridge keeps state: the env var that overrides it (none: fixed under HOME), and its default under HOME. */
  dataDir: { env?: string; underHome: string };
  /**
   * Its services' names (unit file, launchd label), known before any
   * identity, and the executable each runs (default binaryName); the first
   * is the primary one, whose User= and HOME are adopted.
   */
  units: readonly { unit: string; label: string; binary?: string }[];
  /** What its channel's CLI touches as the dispatching user; doctor checks exactly these. */
  channelFacts: ChannelFacts;
  /** A credential the channel needs, kept in a root-owned file outside the web root (telegram's bot token). */
  secret?: SecretSpec;
  /** The channel block this bridge registers, or null when it registers none. */
  channel(identity: Identity, context: ChannelContext): ChannelSpec | null;
  /** Its long-running services, in the order of `units`. */
  services(identity: Identity): ServiceSpec[];
  /** How `--dispatch sudo` carries one message to the CLI as the service user; absent: direct only. */
  sudoHop?: SudoHopSpec;
}

/** What the engine resolved for the channel besides the identity. */
export interface ChannelContext {
  /** The channelBinary's path, when the bridge has one. */
  command?: string;
  /** The secret file's server path, when a secret is known; unset means there is none (yet). */
  secretFile?: string;
}

/**
 * A credential bridgectl keeps for a channel. Its value never reaches the
 * channels file, argv, a diff, --json or a log: it lives in `file`, mode
 * 0640, owner root, group = the web user's group, and every report redacts
 * any value seen.
 */
export interface SecretSpec {
  /** What it is, for messages (never the value). */
  label: string;
  /**
   * The flag and environment variable that carry it, in that order of
   * precedence; the CLI declares the flag from here, and the value reaches
   * the identity as `IdentityFlags.secrets[flag]`.
   */
  flag: string;
  env: string;
  /** The flag's help: for install, upgrade and check, and for render (which reads no environment). */
  describe: string;
  describeForRender: string;
  /** A value of the right shape that is no real credential: tests and examples use it. */
  sample: string;
  /** Accepted shape, and how to describe it in an error that does not echo the value. */
  shape: RegExp;
  shapeHint: string;
  /** What to do about a malformed value the operator gave (flag or env). */
  malformedFix: string;
  /** Files it is adopted from after flag and env, in order (the bridge's own config). */
  adoptFrom(where: Pick<Identity, 'home' | 'dataDir'>): { path: string; read(text: string): string | undefined }[];
  /** The file bridgectl keeps it in, and how to read a value back from it. */
  file: { path: string; render(value: string): string; read(text: string): string | undefined };
  /** Values embedded in other text (a legacy channel block): adopted last, redacted everywhere. */
  findIn(text: string): string[];
}

/** What a channel's CLI touches when the transport runs it (doctor reasons from these). */
export interface ChannelFacts {
  /** Writes state under HOME on every call: 'yes' fails when HOME is unusable, 'maybe' (custom channels) only warns. */
  writesHome: 'yes' | 'maybe' | 'no';
  /** Keeps its state in the bridge's data dir (env var that moves it, default under HOME). */
  stateDir?: BridgeDefinition['dataDir'];
  /** Writes ./tmp under its working directory (kimaki #159). */
  writesCwd?: boolean;
  /**
   * The env keys its channel block pins, which the service unit must agree
   * with (doctor's unit-env check compares exactly these; telegram pins none).
   */
  pins?: readonly string[];
  /** Talks to its daemon over <data dir>/<path>; data dir from a flag in args, else HOME/<underHome>. */
  socket?: { path: string; dataDirFlag: string; underHome: string };
}
