import type { Facts } from '../../model/facts.js';
import { gather } from '../../facts/gather.js';
import type { FileChange, Plan } from '../../model/plan.js';
import { planUpgrade, type UpgradeOptions } from './upgrade.js';
import { resolveSite } from '../../identity/identity.js';
import { ExitCode } from '../../model/errors.js';
import { formatCheck, formatJson, redact } from '../../report/report.js';
import { prefetchFor } from '../prefetch.js';
import { identityOptions } from '../options.js';
import type { CommandContext, CommandSpec } from '../types.js';

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

/** check: upgrade's plan, never applied. 0 in sync, 2 drift. */
function runCheck({ args, io, style, identity, host }: CommandContext): number {
  // Pure over one snapshot of the machine, as every plan is (facts/gather.ts), with upgrade's prefetch.
  const live = host();
  const located = gather(live, (facts) => resolveSite(identity, facts));
  const site = located.value;
  const { plan, drift } = gather(live, (facts) => checkSite(identity, facts), { from: located.snapshot, prefetch: prefetchFor(site) }).value;
  const code = drift.length ? ExitCode.drift : ExitCode.ok;
  // Notes go to stderr with --json too (docs/json.md): the document holds them as well.
  if (!args.quiet) for (const note of plan.notes) io.stderr(redact(`note: ${note}\n`, plan.secrets));
  if (args.json) {
    io.stdout(formatJson({ command: 'check', exitCode: code, dryRun: true, site, plan }));
  } else if (!args.quiet) {
    io.stdout(formatCheck(drift, plan.changes.length, style, plan.secrets));
  }
  return code;
}

export const checkCommand: CommandSpec = {
  command: 'check',
  describe: 'Compare the managed files with what upgrade would write; exit 2 and print a diff on drift',
  options: [identityOptions],
  examples: [['$0 check --site /var/www/html', 'exit 0 in sync, 2 on drift (diff on stdout), 1 on error']],
  epilogue: 'Exit codes: 0 in sync, 1 error (e.g. damaged markers, nothing installed), 2 drift.',
  writes: false,
  // It reads what install wrote: secret files (root and the web user's group only) and homes such as /root.
  needsRoot: true,
  run: runCheck,
};
