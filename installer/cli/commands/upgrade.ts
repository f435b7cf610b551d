import { bridges } from '../../../bridges/index.js';
import { UserError } from '../../model/errors.js';
import { planBridges } from '../../plan/engine.js';
import { survey } from '../../plan/installed.js';
import type { Facts } from '../../model/facts.js';
import { resolveSite } from '../../identity/identity.js';
import { type IdentityFlags } from '../../model/identity.js';
import type { Plan } from '../../model/plan.js';
import { dispatchOptions, identityOptions, reloadOption } from '../options.js';
import type { CommandSpec } from '../types.js';

export type UpgradeOptions = IdentityFlags;

/**
 * Re-render every installed bridge (a block or a service definition on
 * disk). With no identity flags each bridge's installed identity is
 * adopted, so an upgrade never changes who the bridge runs as; flags that
 * change it are reported as notes.
 */
export function planUpgrade(options: UpgradeOptions, host: Facts): Plan {
  const site = resolveSite(options, host);
  // Each bridge is inspected once: to see whether it is installed, and then to render it.
  const found = survey(bridges, options, site, host);
  const installed = bridges.filter((bridge) => {
    const state = found.installed.get(bridge.id);
    return state !== undefined && (state.block !== undefined || state.services.size > 0);
  });
  if (installed.length === 0) {
    throw new UserError(`nothing to upgrade: no bridge is installed for ${site}`, `run bridgectl install --bridge <id> --site ${site} first`);
  }
  return planBridges(
    installed.map((b) => b.id),
    options,
    host,
    { action: 'upgrade' },
    site,
    found,
  );
}

export const upgradeCommand: CommandSpec = {
  command: 'upgrade',
  describe: 'Re-render every installed bridge block, keeping the installed identity',
  options: [identityOptions, dispatchOptions, reloadOption],
  examples: [['$0 upgrade --site /var/www/html', 'run on every deploy; a no-op when nothing changed']],
  writes: true,
  plan: (_args, identity, host) => planUpgrade(identity, host),
};
