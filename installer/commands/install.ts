import { planBridges } from '../engine.js';
import type { Host } from '../host.js';
import type { IdentityFlags } from '../identity.js';
import type { Plan } from '../plan.js';

export interface InstallOptions extends IdentityFlags {
  bridges: string[];
}

/** Plan the install of one or more bridges: channel blocks, service definitions, data dirs. */
export function planInstall(options: InstallOptions, host: Host): Plan {
  return planBridges(options.bridges, options, host, { action: 'install' });
}
