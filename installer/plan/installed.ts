/**
 * What is installed, read back: the channels file, each bridge's block,
 * service definitions and sudo hop, and what a run adopts from them
 * (user, home, data dir, executables). Pure over Facts.
 */
import { posix } from 'node:path';
import { findBridge } from '../../bridges/index.js';
import type { BridgeDefinition } from '../model/bridge.js';
import { envValue, parseChannelBody } from '../render/channel.js';
import { type ChannelSpec } from '../model/channel.js';
import { MarkerError, RenderError, UsageError, UserError } from '../model/errors.js';
import type { Facts } from '../model/facts.js';
import { type Adopted, type IdentityFlags } from '../model/identity.js';
import { parseManaged, readBlock, type ManagedText } from '../render/markers.js';
import { channelsFile } from '../lib/paths.js';
import { inspectDispatch, type InstalledDispatch } from './hop-installed.js';
import { envOf, parseService, serviceFile, type InstalledService } from '../render/units.js';
import { type InitSystem } from '../model/service.js';

export interface ChannelsFileState {
  path: string;
  text: string | undefined;
  /** The text parsed, once: every reader of the file in a plan uses this. */
  parsed: ManagedText | undefined;
  mode: number | undefined;
}

export function readChannelsFile(site: string, host: Facts): ChannelsFileState {
  const file = channelsFile(site);
  assertPlainFile(file, host);
  const text = host.readText(file);
  const parsed = text === undefined ? undefined : checked(file, () => parseManaged(text)); // fails early, naming file and line
  return { path: file, text, parsed, mode: text === undefined ? undefined : host.stat(file)?.mode };
}

/** Run marker-engine work, naming the file in any structural or rendering error. */
export function checked<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof MarkerError) throw err.inFile(file);
    if (err instanceof RenderError) throw new RenderError(`${file}: ${err.message}`, err.hint);
    throw err;
  }
}

/** A managed path must be a regular file or absent: never read (or later write) through a symlink, never a directory. */
export function assertPlainFile(file: string, host: Facts): void {
  const facts = host.lstat(file);
  if (facts === undefined || facts.kind === 'file') return;
  if (facts.kind === 'symlink') {
    throw new UserError(`${file} is a symlink; bridgectl never reads or writes a managed file through a symlink`, 'replace the link with a regular file (or remove it) and run again');
  }
  throw new UserError(`${file} is a ${facts.kind === 'directory' ? 'directory' : 'special file'}, not a regular file`, 'move it aside and run again');
}

export function requireBridge(id: string): BridgeDefinition {
  const bridge = findBridge(id);
  if (!bridge) throw new UsageError(`unknown bridge '${id}'`);
  return bridge;
}

/** One installed service definition. */
export interface InstalledServiceFile {
  text: string;
  parsed: InstalledService;
  mode: number | undefined;
  /** Which of the bridge's units it is. */
  names: BridgeDefinition['units'][number];
}

/** What is on disk for one bridge. */
export interface InstalledBridge {
  /** The channel block, parsed; 'unreadable' when present but not in our format. */
  block?: ChannelSpec | 'unreadable';
  /** The block's body as text (a legacy block may carry a secret to adopt). */
  blockText?: string;
  init?: Exclude<InitSystem, 'none'>;
  /** For launchd, the home whose LaunchAgents hold the plists: it is the service user's. */
  launchdHome?: string;
  /** Installed service definitions by server path. */
  services: Map<string, InstalledServiceFile>;
  /** How the channel dispatches, and the sudo hop's files when there are any (hop-installed.ts). */
  dispatch?: InstalledDispatch;
}

/**
 * Homes to look for launchd plists in, or a function giving them: only a
 * bridge with no systemd unit needs them, and on a big channels file they
 * cost a parse of every block (see candidateHomes, lazyCandidateHomes).
 */
export type CandidateHomes = readonly string[] | (() => readonly string[]);

/** Find the bridge's block and service files. launchd plists live under a home, so candidate homes are tried. */
export function inspectInstalled(bridge: BridgeDefinition, channels: ManagedText | undefined, host: Facts, homes: CandidateHomes): InstalledBridge {
  const installed: InstalledBridge = { services: new Map() };
  const body = channels === undefined ? undefined : readBlock(channels, bridge.id);
  if (body) {
    installed.block = parseChannelBody(body) ?? 'unreadable';
    installed.blockText = body.join('\n');
  }
  installed.dispatch = inspectDispatch(bridge, installed.block === 'unreadable' ? undefined : installed.block, host);
  const blockHome = installed.block && installed.block !== 'unreadable' ? envValue(installed.block, 'HOME') : undefined;

  // systemd first; launchd homes only when no unit was found (so they are
  // only then worked out).
  const look = (init: Exclude<InitSystem, 'none'>, home: string): boolean => {
    for (const names of bridge.units) {
      const path = serviceFile(init, names, home);
      const text = host.readText(path);
      if (text === undefined) continue;
      installed.init ??= init;
      if (installed.init === init) installed.services.set(path, { text, parsed: parseService(init, text), mode: host.stat(path)?.mode, names });
    }
    if (installed.init === 'launchd') installed.launchdHome = home;
    return installed.init !== undefined;
  };
  if (look('systemd', '/')) return installed;
  for (const home of new Set([blockHome, ...(typeof homes === 'function' ? homes() : homes)])) {
    if (home && look('launchd', home)) return installed;
  }
  // Last resort, for a flagless run over an installed block that pins no HOME
  // (telegram's): the one passwd home whose plist its own user (or root)
  // owns. Any local user can plant a plist in their home, so never for a
  // bridge that is not installed yet, nor when two homes hold one.
  if (body && blockHome === undefined) {
    const [only, ...more] = ownPlistHomes(bridge, host);
    if (only !== undefined && more.length === 0) look('launchd', only);
  }
  return installed;
}

/** passwd homes holding one of the bridge's plists, the home and the plist owned by that home's user or root. */
function ownPlistHomes(bridge: BridgeDefinition, host: Facts): string[] {
  const owns = (uid: number | undefined, user: number): boolean => uid === user || uid === 0;
  const homes = host.users().filter(
    (u) => posix.isAbsolute(u.home) && owns(host.lstat(u.home)?.uid, u.uid) && bridge.units.some((names) => {
      const plist = host.lstat(serviceFile('launchd', names, u.home));
      return plist?.kind === 'file' && owns(plist.uid, u.uid);
    }),
  );
  return [...new Set(homes.map((u) => u.home))];
}

/** The value after `--data-dir` in an argv, if any. */
function dataDirFlag(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--data-dir');
  return at >= 0 ? argv[at + 1] : undefined;
}

/** Installed facts, the unit first (it is what runs), disagreements noted. */
export function adopt(bridge: BridgeDefinition, installed: InstalledBridge, notes: string[]): Adopted {
  const services = [...installed.services.values()];
  const unit = services.find((s) => s.names.unit === bridge.units[0]?.unit)?.parsed;
  const block = installed.block === 'unreadable' ? undefined : installed.block;
  if (installed.block === 'unreadable') notes.push(`${bridge.id}: the installed channel block is not in bridgectl's format; nothing adopted from it`);
  const dataDirEnv = bridge.dataDir.env;

  const fromUnit: Adopted = { binaries: {} };
  for (const service of services) {
    const command = service.parsed.argv?.[0];
    if (command !== undefined) (fromUnit.binaries ??= {})[service.names.binary ?? bridge.binaryName] = command;
  }
  if (unit) {
    if (unit.user !== undefined) fromUnit.user = unit.user;
    // A plist without HOME (the bash installer's kimaki and cc-connect) still sits in its user's home.
    const home = envOf(unit, 'HOME') ?? installed.launchdHome;
    if (home !== undefined) fromUnit.home = home;
    const dataDir = (dataDirEnv === undefined ? undefined : envOf(unit, dataDirEnv)) ?? dataDirFlag((unit.argv ?? []).slice(1));
    if (dataDir !== undefined) fromUnit.dataDir = dataDir;
  }
  const fromBlock: Adopted = { binaries: {} };
  if (block) {
    // In sudo dispatch mode the block runs the wrapper; the CLI is named in the installed target.
    const cli = installed.dispatch?.mode === 'sudo' ? installed.dispatch.binary : block.command;
    if (cli !== undefined) (fromBlock.binaries ??= {})[bridge.channelBinary ?? bridge.binaryName] = cli;
    const home = envValue(block, 'HOME');
    const dataDir = (dataDirEnv === undefined ? undefined : envValue(block, dataDirEnv)) ?? dataDirFlag(block.args);
    if (home !== undefined) fromBlock.home = home;
    if (dataDir !== undefined) fromBlock.dataDir = dataDir;
  }
  if (unit && block) {
    // A channel that runs the bridge's own CLI must carry the unit's pins; one that runs another tool (curl) pins none.
    const pinsLikeUnit = bridge.channelBinary === undefined;
    for (const key of ['home', 'dataDir'] as const) {
      const inBlock = fromBlock[key];
      if (fromUnit[key] !== undefined && fromUnit[key] !== inBlock && (inBlock !== undefined || pinsLikeUnit)) {
        notes.push(
          `${bridge.id}: the installed unit and channel block disagree on ${key === 'home' ? 'HOME' : (dataDirEnv ?? 'the data dir')} ` +
            `(unit ${fromUnit[key]}, block ${inBlock ?? 'not pinned'}); both now get the unit's`,
        );
      }
    }
  }
  const adopted: Adopted = { ...fromBlock, ...fromUnit, binaries: { ...fromBlock.binaries, ...fromUnit.binaries } };
  if (installed.init) adopted.init = installed.init;
  return adopted;
}

/**
 * Homes where a launchd plist might live before the identity is known: the
 * named service user's, the HOME any block pins (the bridges of one site
 * usually share a user, and telegram's block pins none), and the invoking
 * user's HOME (where the bash installer wrote the plists). Other passwd
 * homes are a last resort with conditions (inspectInstalled).
 */
export function candidateHomes(flags: Pick<IdentityFlags, 'serviceUser' | 'runAsRoot'>, host: Facts, channels: ManagedText | undefined): string[] {
  const name = flags.serviceUser ?? (flags.runAsRoot ? 'root' : undefined) ?? host.env.SERVICE_USER;
  const named = name ? host.user(name)?.home : undefined;
  return [...new Set([named, ...pinnedHomes(channels), host.env.HOME].filter((h): h is string => h !== undefined && posix.isAbsolute(h)))];
}

/**
 * The HOME every readable block pins, in file order. A block can only pin
 * one on a line holding the literal 'HOME' (a PHP single-quoted key decodes
 * to HOME from nothing else), so only such blocks are copied and parsed.
 */
function pinnedHomes(channels: ManagedText | undefined): string[] {
  if (channels === undefined) return [];
  const { lines, blocks } = channels;
  const homes: string[] = [];
  for (const b of blocks) {
    let mentions = false;
    for (let i = b.begin + 1; i < b.end && !mentions; i++) mentions = (lines[i] as string).includes("'HOME'");
    if (!mentions) continue;
    const spec = parseChannelBody(lines.slice(b.begin + 1, b.end));
    const home = spec && envValue(spec, 'HOME');
    if (home) homes.push(home);
  }
  return homes;
}

/** candidateHomes, worked out on first use and then remembered: one run asks for it once per bridge at most. */
export function lazyCandidateHomes(flags: Pick<IdentityFlags, 'serviceUser' | 'runAsRoot'>, host: Facts, channels: ManagedText | undefined): () => string[] {
  let homes: string[] | undefined;
  return () => (homes ??= candidateHomes(flags, host, channels));
}

/**
 * Every bridge's installed state in one run, inspected once: upgrade picks
 * the installed bridges from it and renders them from the same inspection.
 */
export interface Survey {
  channels: ChannelsFileState;
  installed: ReadonlyMap<string, InstalledBridge>;
}

export function survey(bridges: readonly BridgeDefinition[], flags: IdentityFlags, site: string, host: Facts): Survey {
  const channels = readChannelsFile(site, host);
  const homes = lazyCandidateHomes(flags, host, channels.parsed);
  return { channels, installed: new Map(bridges.map((b) => [b.id, inspectInstalled(b, channels.parsed, host, homes)])) };
}
