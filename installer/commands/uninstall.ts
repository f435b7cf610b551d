import { channelsChange, readChannelsFile, requireBridge } from '../engine.js';
import type { Host } from '../host.js';
import { resolveSite } from '../identity.js';
import { listBlocks } from '../markers.js';
import type { Plan } from '../plan.js';

export interface UninstallOptions {
  bridges: string[];
  site?: string;
}

/** Remove exactly the named bridges' blocks; everything else stays. */
export function planUninstall(options: UninstallOptions, host: Host): Plan {
  const site = resolveSite(options, host);
  const state = readChannelsFile(site, host);
  const notes: string[] = [];
  const present = new Set(state.text === undefined ? [] : listBlocks(state.text).map((b) => b.id));
  for (const id of options.bridges) {
    requireBridge(id);
    if (!present.has(id)) notes.push(`${id} is not installed in ${state.path}`);
  }
  const changes =
    state.text === undefined
      ? []
      : [channelsChange(state, options.bridges.map((id) => ({ id, body: null })))];
  return { changes, identities: {}, notes };
}
