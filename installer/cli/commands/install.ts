import { planBridges } from '../../plan/engine.js';
import type { Facts } from '../../model/facts.js';
import type { IdentityFlags } from '../../model/identity.js';
import type { Plan } from '../../model/plan.js';

export interface InstallOptions extends IdentityFlags {
  bridges: string[];
}

/** Plan the install of one or more bridges: channel blocks, service definitions, data dirs. */
export function planInstall(options: InstallOptions, host: Facts): Plan {
  return planBridges(options.bridges, options, host, { action: 'install' });
}
