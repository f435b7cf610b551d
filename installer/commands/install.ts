import { channelsChange, readChannelsFile, renderBridge, requireBridge } from '../engine.js';
import type { Host } from '../host.js';
import { resolveSite, type IdentityFlags } from '../identity.js';
import type { Plan } from '../plan.js';

export interface InstallOptions extends IdentityFlags {
  bridges: string[];
}

/** Plan the install of one or more bridges into the site. */
export function planInstall(options: InstallOptions, host: Host): Plan {
  const site = resolveSite(options, host);
  const state = readChannelsFile(site, host);
  const notes: string[] = [];
  const rendered = options.bridges.map((id) => renderBridge(requireBridge(id), options, state.text, site, host, notes));
  return {
    changes: [channelsChange(state, rendered.map((r) => r.change))],
    identities: Object.fromEntries(rendered.map((r) => [r.bridge.id, r.identity])),
    notes,
  };
}
