/**
 * The steps every command shares: read what is installed, adopt it, resolve
 * each bridge's identity, render its channel block and service definitions
 * from that one identity, and turn the result into a plan. Reads go through
 * the Host; nothing here writes.
 */
import { findBridge } from '../bridges/index.js';
import type { BridgeDefinition } from '../bridges/types.js';
import { envValue, parseChannelBody, renderChannelBody, renderScaffold, type ChannelSpec } from './channel.js';
import { MarkerError, UsageError } from './errors.js';
import type { Host } from './host.js';
import { resolveIdentity, resolveSite, type Adopted, type Identity, type IdentityFlags } from './identity.js';
import { listBlocks, spliceBlocks, type BlockChange } from './markers.js';
import { channelsFile } from './paths.js';
import { fileChange, type DirectoryChange, type FileChange, type Plan } from './plan.js';
import { inspectDispatch, planDispatch, type DispatchPlan, type InstalledDispatch } from './sudo-hop.js';
import {
  envOf,
  keptSettings,
  parseService,
  renderService,
  serviceFile,
  type InitSystem,
  type InstalledService,
} from './units.js';

/** Managed PHP files: readable by PHP-FPM whatever the umask, writable only by their owner. */
export const PHP_FILE_MODE = 0o644;
/** systemd units and launchd plists: 0644 is what systemd expects (it warns on world-writable or executable units). */
export const SERVICE_FILE_MODE = 0o644;
/** A bridge's data dir holds its tokens and database: private to the service user. */
export const DATA_DIR_MODE = 0o700;

export interface ChannelsFileState {
  path: string;
  text: string | undefined;
  mode: number | undefined;
}

export function readChannelsFile(site: string, host: Host): ChannelsFileState {
  const file = channelsFile(site);
  const text = host.readText(file);
  if (text !== undefined) checked(file, () => listBlocks(text)); // fail early, naming file and line
  return { path: file, text, mode: text === undefined ? undefined : host.stat(file)?.mode };
}

/** Run marker-engine work, naming the file in any structural error. */
export function checked<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof MarkerError) throw err.inFile(file);
    throw err;
  }
}

export function requireBridge(id: string): BridgeDefinition {
  const bridge = findBridge(id);
  if (!bridge) throw new UsageError(`unknown bridge '${id}'`);
  return bridge;
}

/** What is on disk for one bridge. */
export interface InstalledBridge {
  /** The channel block, parsed; 'unreadable' when present but not in our format. */
  block?: ChannelSpec | 'unreadable';
  init?: Exclude<InitSystem, 'none'>;
  /** Installed service definitions by server path. */
  services: Map<string, { text: string; parsed: InstalledService; mode: number | undefined }>;
  /** How the channel dispatches, and the sudo hop's files when there are any (sudo-hop.ts). */
  dispatch?: InstalledDispatch;
}

/** Find the bridge's block and service files. launchd plists live under a home, so candidate homes are tried. */
export function inspectInstalled(bridge: BridgeDefinition, channelsText: string | undefined, host: Host, homes: string[]): InstalledBridge {
  const installed: InstalledBridge = { services: new Map() };
  const block = channelsText === undefined ? undefined : listBlocks(channelsText).find((b) => b.id === bridge.id);
  if (block) installed.block = parseChannelBody(block.body) ?? 'unreadable';
  installed.dispatch = inspectDispatch(bridge, installed.block === 'unreadable' ? undefined : installed.block, host);
  const blockHome = installed.block && installed.block !== 'unreadable' ? envValue(installed.block, 'HOME') : undefined;

  const candidates: [Exclude<InitSystem, 'none'>, string][] = [
    ['systemd', '/'],
    ...[...new Set([blockHome, ...homes])].flatMap((h): [Exclude<InitSystem, 'none'>, string][] => (h ? [['launchd', h]] : [])),
  ];
  for (const [init, home] of candidates) {
    for (const names of bridge.units) {
      const path = serviceFile(init, names, home);
      const text = host.readText(path);
      if (text === undefined) continue;
      installed.init ??= init;
      if (installed.init === init) installed.services.set(path, { text, parsed: parseService(init, text), mode: host.stat(path)?.mode });
    }
    if (installed.init) break;
  }
  return installed;
}

/** Installed facts, the unit first (it is what runs), disagreements noted. */
export function adopt(bridge: BridgeDefinition, installed: InstalledBridge, notes: string[]): Adopted {
  const primaryPath = [...installed.services.keys()].find((p) => p.endsWith(`/${bridge.units[0]?.unit}`) || p.endsWith(`/${bridge.units[0]?.label}.plist`));
  const unit = primaryPath ? installed.services.get(primaryPath)?.parsed : undefined;
  const block = installed.block === 'unreadable' ? undefined : installed.block;
  if (installed.block === 'unreadable') notes.push(`${bridge.id}: the installed channel block is not in bridgectl's format; nothing adopted from it`);

  const fromUnit: Adopted = {};
  if (unit) {
    if (unit.user !== undefined) fromUnit.user = unit.user;
    const home = envOf(unit, 'HOME');
    if (home !== undefined) fromUnit.home = home;
    const argv = unit.argv ?? [];
    const flagAt = argv.indexOf('--data-dir');
    const dataDir = envOf(unit, bridge.dataDir.env) ?? (flagAt > 0 ? argv[flagAt + 1] : undefined);
    if (dataDir !== undefined) fromUnit.dataDir = dataDir;
    if (argv[0] !== undefined) fromUnit.binary = argv[0];
  }
  const fromBlock: Adopted = {};
  if (block) {
    // In sudo dispatch mode the block runs the wrapper; the CLI is named in the installed target.
    fromBlock.binary = installed.dispatch?.mode === 'sudo' ? installed.dispatch.binary : block.command;
    const home = envValue(block, 'HOME');
    const dataDir = envValue(block, bridge.dataDir.env);
    if (home !== undefined) fromBlock.home = home;
    if (dataDir !== undefined) fromBlock.dataDir = dataDir;
  }
  if (unit && block) {
    for (const key of ['home', 'dataDir'] as const) {
      if (fromUnit[key] !== undefined && fromUnit[key] !== fromBlock[key]) {
        notes.push(
          `${bridge.id}: the installed unit and channel block disagree on ${key === 'home' ? 'HOME' : bridge.dataDir.env} ` +
            `(unit ${fromUnit[key]}, block ${fromBlock[key] ?? 'not pinned'}); both now get the unit's`,
        );
      }
    }
  }
  const adopted: Adopted = { ...fromBlock, ...fromUnit };
  if (installed.init) adopted.init = installed.init;
  return adopted;
}

export interface RenderedBridge {
  bridge: BridgeDefinition;
  identity: Identity;
  block: BlockChange;
  files: FileChange[];
  directories: DirectoryChange[];
  /** The sudo hop's files (written before the channels file, removed after it). */
  dispatch: DispatchPlan;
}

export interface RenderOptions {
  /** upgrade adds no service definitions a bridge did not have; install does. */
  action: 'install' | 'upgrade';
}

export function renderBridge(
  bridge: BridgeDefinition,
  flags: IdentityFlags,
  channels: ChannelsFileState,
  site: string,
  host: Host,
  notes: string[],
  options: RenderOptions,
): RenderedBridge {
  const installed = inspectInstalled(bridge, channels.text, host, candidateHomes(flags, host));
  const adopted = adopt(bridge, installed, notes);
  if (options.action === 'upgrade' && adopted.init === undefined) adopted.init = 'none';
  const { identity, notes: identityNotes } = resolveIdentity(bridge, flags, adopted, site, host);
  notes.push(...identityNotes);

  // Dispatch mode (sudo-hop.ts): in sudo mode the channel runs the hop's wrapper.
  const dispatch = planDispatch({
    bridge,
    identity,
    spec: bridge.channel(identity),
    installed: installed.dispatch ?? inspectDispatch(bridge, undefined, host),
    flags: flags.dispatch ?? {},
    host,
    notes,
    action: options.action,
    enforceOwner: process.getuid?.() === 0,
  });
  const spec = dispatch.spec;
  const block: BlockChange = { id: bridge.id, body: spec ? renderChannelBody(spec) : null };

  const files: FileChange[] = [];
  const init = identity.init;
  if (init !== 'none') {
    for (const service of bridge.services(identity)) {
      const path = serviceFile(init, service, identity.home);
      const current = installed.services.get(path);
      const text = current?.text ?? host.readText(path);
      const parsed = current?.parsed ?? (text === undefined ? undefined : parseService(init, text));
      const managed = [...service.systemdEnv, ...service.launchdEnv].map(([k]) => k);
      const after = renderService(init, service, keptSettings(parsed, managed));
      files.push(fileChange(path, text ?? null, after, SERVICE_FILE_MODE, current?.mode ?? (text === undefined ? undefined : host.stat(path)?.mode)));
    }
  }
  // Definitions left under another init system (e.g. --init switched) are removed.
  const rendered = new Set(files.map((f) => f.path));
  for (const [path, current] of installed.services) {
    if (!rendered.has(path)) files.push(fileChange(path, current.text, null, SERVICE_FILE_MODE, current.mode));
  }

  const directories: DirectoryChange[] = [...dispatch.directories];
  if (options.action === 'install' && host.stat(identity.dataDir) === undefined) {
    directories.push({ path: identity.dataDir, uid: identity.uid, gid: identity.gid, mode: DATA_DIR_MODE });
  }
  return { bridge, identity, block, files, directories, dispatch };
}

/** Homes where a launchd plist might live before the identity is known. */
function candidateHomes(flags: IdentityFlags, host: Host): string[] {
  const name = flags.serviceUser ?? (flags.runAsRoot ? 'root' : undefined) ?? host.env.SERVICE_USER;
  const home = name ? host.user(name)?.home : undefined;
  return home ? [home] : [];
}

/** The plan entry for the channels file after the given block changes. */
export function channelsChange(state: ChannelsFileState, changes: BlockChange[]): FileChange {
  const base = state.text ?? renderScaffold();
  const after = checked(state.path, () => spliceBlocks(base, changes));
  if (state.text === undefined && changes.every((c) => c.body === null)) {
    return fileChange(state.path, null, null, PHP_FILE_MODE); // nothing to register: do not create the file
  }
  return fileChange(state.path, state.text ?? null, after, PHP_FILE_MODE, state.mode);
}

/** Install or upgrade: render the bridges and assemble one plan. */
export function planBridges(ids: readonly string[], flags: IdentityFlags, host: Host, options: RenderOptions, site = resolveSite(flags, host)): Plan {
  const channels = readChannelsFile(site, host);
  const notes: string[] = [];
  const rendered = ids.map((id) => renderBridge(requireBridge(id), flags, channels, site, host, notes, options));
  // Hop files go in before the channel points at them, and out after it no longer does.
  const hop = rendered.flatMap((r) => r.dispatch.files);
  return {
    changes: [
      ...hop.filter((c) => c.after !== null),
      channelsChange(channels, rendered.map((r) => r.block)),
      ...rendered.flatMap((r) => r.files),
      ...hop.filter((c) => c.after === null),
    ],
    directories: rendered.flatMap((r) => r.directories),
    identities: Object.fromEntries(rendered.map((r) => [r.bridge.id, r.identity])),
    notes,
  };
}
