import type { Facts } from '../../model/facts.js';
import type { FileChange, Plan } from '../../model/plan.js';
import { planUpgrade, type UpgradeOptions } from './upgrade.js';

export type CheckOptions = UpgradeOptions;

export interface CheckResult {
  /** What `upgrade` would do, with the same flags. */
  plan: Plan;
  /** The managed files that differ from it (content or mode): empty when in sync. */
  drift: FileChange[];
}

/**
 * Compare the managed files on disk with what `upgrade` would write. The
 * same plan, never applied: a drifted block, a hand-edited unit, a missing
 * file or a wrong mode all show up as a pending change.
 */
export function checkSite(options: CheckOptions, host: Facts): CheckResult {
  const plan = planUpgrade(options, host);
  return { plan, drift: plan.changes.filter((c) => c.status !== 'unchanged') };
}
