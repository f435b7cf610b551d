import { planBridges } from '../../plan/engine.js';
import type { Facts } from '../../model/facts.js';
import type { IdentityFlags } from '../../model/identity.js';
import type { Plan } from '../../model/plan.js';
import { bridgeOption, dispatchOptions, identityOptions, reloadOption } from '../options.js';
import type { CommandSpec } from '../types.js';

export interface InstallOptions extends IdentityFlags {
  bridges: string[];
}

/** Plan the install of one or more bridges: channel blocks, service definitions, data dirs. */
export function planInstall(options: InstallOptions, host: Facts): Plan {
  return planBridges(options.bridges, options, host, { action: 'install' });
}

export const installCommand: CommandSpec = {
  command: 'install',
  describe: "Register bridges in the site's channels mu-plugin, pinning their service identity",
  options: [bridgeOption, identityOptions, dispatchOptions, reloadOption],
  examples: [
    ['$0 install --bridge kimaki --site /var/www/html --service-user opencode', 'pin HOME=/home/opencode and KIMAKI_DATA_DIR for the kimaki channel'],
    ['$0 install --bridge kimaki --site /var/www/html --service-user opencode --dispatch sudo', 'dispatch as opencode through a narrowed sudo grant'],
  ],
  writes: true,
  plan: (args, identity, host) => planInstall({ ...identity, bridges: args.bridge ?? [] }, host),
};
