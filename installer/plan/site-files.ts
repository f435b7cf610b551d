/**
 * The site's two managed PHP files as plan entries: the channels mu-plugin
 * after its blocks change (install, upgrade, channel set/remove) and the
 * dispatch transport, written while any channel is registered.
 */
import type { Facts } from '../model/facts.js';
import type { FileChange } from '../model/plan.js';
import { transportFile } from '../lib/paths.js';
import { renderScaffold } from '../render/channel.js';
import { countBlocks, spliceBlocks, type BlockChange } from '../render/markers.js';
import { staticTemplate } from '../render/templates.js';
import { fileChange } from './changes.js';
import { checked, type ChannelsFileState } from './installed.js';

/** Managed PHP files: readable by PHP-FPM whatever the umask, writable only by their owner. */
export const PHP_FILE_MODE = 0o644;

/** The plan entry for the channels file after the given block changes. */
export function channelsChange(state: ChannelsFileState, changes: BlockChange[]): FileChange {
  const base = state.text ?? renderScaffold();
  const after = checked(state.path, () => spliceBlocks(base, changes, state.parsed));
  if (state.text === undefined && changes.every((c) => c.body === null)) {
    return fileChange(state.path, null, null, PHP_FILE_MODE); // nothing to register: do not create the file
  }
  return fileChange(state.path, state.text ?? null, after, PHP_FILE_MODE, state.mode);
}

export const TRANSPORT_TEMPLATE = 'wp-coding-agents-cli-transport.php';

/**
 * The dispatch transport mu-plugin: a whole file, written while any channel
 * is registered, removed with the last one.
 */
export function transportChange(site: string, host: Facts, wanted: boolean): FileChange {
  const path = transportFile(site);
  const current = host.readText(path);
  const mode = current === undefined ? undefined : host.stat(path)?.mode;
  return fileChange(path, current ?? null, wanted ? staticTemplate(TRANSPORT_TEMPLATE) : null, PHP_FILE_MODE, mode);
}

/** Whether a channels file (as planned) still registers any channel. */
export function registersChannels(change: FileChange): boolean {
  if (change.after === null) return false;
  return countBlocks(change.after) > 0;
}
