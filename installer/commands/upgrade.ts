import { findBridge } from '../../bridges/index.js';
import { UserError } from '../errors.js';
import { channelsChange, readChannelsFile, renderBridge } from '../engine.js';
import type { Host } from '../host.js';
import { resolveSite, type IdentityFlags } from '../identity.js';
import { listBlocks } from '../markers.js';
import type { Plan } from '../plan.js';

export type UpgradeOptions = IdentityFlags;

/**
 * Re-render every installed bridge block. With no identity flags each
 * bridge's installed identity is adopted, so an upgrade never changes who
 * the bridge runs as; flags that change it are reported as notes.
 */
export function planUpgrade(options: UpgradeOptions, host: Host): Plan {
  const site = resolveSite(options, host);
  const state = readChannelsFile(site, host);
  if (state.text === undefined) {
    throw new UserError(`nothing to upgrade: ${state.path} does not exist`, `run bridgectl install --bridge <id> --site ${site} first`);
  }
  const notes: string[] = [];
  const installed = listBlocks(state.text).flatMap((b) => findBridge(b.id) ?? []);
  const rendered = installed.map((bridge) => renderBridge(bridge, options, state.text, site, host, notes));
  if (installed.length === 0) notes.push(`no bridge blocks in ${state.path}; nothing to re-render`);
  return {
    changes: [channelsChange(state, rendered.map((r) => r.change))],
    identities: Object.fromEntries(rendered.map((r) => [r.bridge.id, r.identity])),
    notes,
  };
}
