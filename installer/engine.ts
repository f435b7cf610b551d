/**
 * The steps every command shares: read the channels file, adopt what is
 * installed, resolve identities, render blocks, and turn the result into a
 * plan entry. Reads go through the Host; nothing here writes.
 */
import { findBridge } from '../bridges/index.js';
import type { BridgeDefinition } from '../bridges/types.js';
import { envValue, parseChannelBody, renderChannelBody, renderScaffold } from './channel.js';
import { MarkerError, UsageError } from './errors.js';
import type { Host } from './host.js';
import { resolveIdentity, type Adopted, type IdentityFlags, type Identity } from './identity.js';
import { listBlocks, spliceBlocks, type BlockChange } from './markers.js';
import { channelsFile } from './paths.js';
import { fileChange, type FileChange } from './plan.js';

/** Managed PHP files: readable by PHP-FPM whatever the umask, writable only by their owner. */
export const PHP_FILE_MODE = 0o644;

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

/** What the installed block says about a bridge's identity. */
export function adoptFromBlock(text: string | undefined, bridge: BridgeDefinition, notes: string[]): Adopted {
  if (text === undefined) return {};
  const block = listBlocks(text).find((b) => b.id === bridge.id);
  if (!block) return {};
  const spec = parseChannelBody(block.body);
  if (!spec) {
    notes.push(`${bridge.id}: the installed block is not in bridgectl's format; nothing adopted from it`);
    return {};
  }
  const adopted: Adopted = { binary: spec.command };
  const home = envValue(spec, 'HOME');
  const dataDir = envValue(spec, bridge.dataDir.env);
  if (home !== undefined) adopted.home = home;
  if (dataDir !== undefined) adopted.dataDir = dataDir;
  return adopted;
}

export interface RenderedBridge {
  bridge: BridgeDefinition;
  identity: Identity;
  change: BlockChange;
}

export function renderBridge(
  bridge: BridgeDefinition,
  flags: IdentityFlags,
  installed: string | undefined,
  site: string,
  host: Host,
  notes: string[],
): RenderedBridge {
  const adopted = adoptFromBlock(installed, bridge, notes);
  const resolution = resolveIdentity(bridge, flags, adopted, site, host);
  notes.push(...resolution.notes);
  const spec = bridge.channel(resolution.identity);
  return { bridge, identity: resolution.identity, change: { id: bridge.id, body: renderChannelBody(spec) } };
}

/** The plan entry for the channels file after the given block changes. */
export function channelsChange(state: ChannelsFileState, changes: BlockChange[]): FileChange {
  const base = state.text ?? renderScaffold();
  const after = checked(state.path, () => spliceBlocks(base, changes));
  return fileChange(state.path, state.text ?? null, after, PHP_FILE_MODE, state.mode);
}
