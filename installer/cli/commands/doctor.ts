import path from 'node:path';
import { bridges } from '../../../bridges/index.js';
import { diagnose, doctorExitCode, liveProbes, settle, type Finding, type LintResult } from '../../doctor/doctor.js';
import { runLiveProbes } from '../../doctor/sudo-probe.js';
import { gather } from '../../facts/gather.js';
import type { Snapshot } from '../../facts/snapshot.js';
import { resolveSite } from '../../identity/identity.js';
import { resolveWebUser } from '../../identity/web-user.js';
import { channelsFile } from '../../lib/paths.js';
import { type Check } from '../../model/doctor.js';
import { UsageError, type FactItem } from '../../model/errors.js';
import type { Facts } from '../../model/facts.js';
import type { Runner } from '../../model/process.js';
import { type WebUser } from '../../model/web-user.js';
import { formatDoctor, formatJson } from '../../report/report.js';
import { outputWidth } from '../../report/wrap.js';
import { siteOption } from '../options.js';
import { prefetchFor } from '../prefetch.js';
import type { CommandContext, CommandSpec } from '../types.js';

export interface DoctorOptions {
  site?: string;
  skipWordpressCheck?: boolean;
  webUser?: string;
  /** The live probes' process runner and whether doctor runs as root (tests replace them). */
  run?: Runner;
  isRoot?: boolean;
}

export interface DoctorReport {
  site: string;
  webUser: WebUser;
  checks: Check[];
}

/** What doctor's pure stage makes of a snapshot: the web user, and the checks with the live probes' still pending. */
export interface Diagnosis {
  webUser: WebUser;
  findings: Finding[];
}

/** doctor's pure stage for a site: over the facts alone, it never reads the machine (facts/gather.ts reads for it). */
export function diagnosisOf(options: DoctorOptions, site: string): (facts: Facts) => Diagnosis {
  return (facts) => {
    const webUser = resolveWebUser(options.webUser, facts);
    return { webUser, findings: diagnose({ host: facts, site, webUser, ...(options.isRoot !== undefined ? { isRoot: options.isRoot } : {}) }) };
  };
}

/**
 * What every doctor run over a site reads, fetched before its first round:
 * what a plan reads (prefetch.ts) but the secret files — doctor never reads
 * a token — plus the PHP-FPM pools (who the web user is) and every
 * directory down to the managed files (the web user's reach to them).
 */
export function doctorPrefetch(site: string): FactItem[] {
  const secrets = new Set(bridges.flatMap((b) => (b.secret ? [b.secret.file.path, path.posix.dirname(b.secret.file.path)] : [])));
  const items: FactItem[] = [...prefetchFor(site).filter((item) => !('path' in item && secrets.has(item.path))), { kind: 'fpmPools' }];
  for (let dir = path.posix.dirname(channelsFile(site)); ; dir = path.posix.dirname(dir)) {
    items.push({ kind: 'stat', path: dir }, { kind: 'lstat', path: dir });
    if (dir === '/') break;
  }
  return items;
}

/** The site, then the diagnosis, each gathered from the host into one snapshot. */
export function gatherDiagnosis(options: DoctorOptions, host: Facts): { site: string; diagnosis: Diagnosis; snapshot: Snapshot; rounds: number } {
  const located = gather(host, (facts) => resolveSite(options, facts));
  const site = located.value;
  const diagnosed = gather(host, diagnosisOf(options, site), { from: located.snapshot, prefetch: doctorPrefetch(site) });
  return { site, diagnosis: diagnosed.value, snapshot: diagnosed.snapshot, rounds: located.rounds + diagnosed.rounds };
}

/**
 * Diagnose over a gathered snapshot, then run the live probes the diagnosis
 * names (php -l, visudo, the grant as each web user) in one step, and put
 * their checks in place. Reads only.
 */
export function runDoctor(options: DoctorOptions, host: Facts, lint?: (file: string) => LintResult | 'unavailable'): DoctorReport {
  const { site, diagnosis } = gatherDiagnosis(options, host);
  const outcomes = runLiveProbes(liveProbes(diagnosis.findings), host.root, { ...(options.run ? { run: options.run } : {}), ...(lint ? { lint } : {}) });
  return { site, webUser: diagnosis.webUser, checks: settle(diagnosis.findings, outcomes, host.root) };
}

function runDoctorCommand({ args, io, style, host }: CommandContext): number {
  const [webUser, ...more] = args.webUser ?? [];
  if (more.length) throw new UsageError('doctor checks one web user at a time: run it once per --web-user');
  const options = {
    ...(args.site !== undefined ? { site: args.site } : {}),
    ...(args.skipWordpressCheck === true ? { skipWordpressCheck: true } : {}),
    ...(webUser !== undefined ? { webUser } : {}),
  };
  const report = runDoctor(options, host());
  const code = doctorExitCode(report.checks);
  if (args.json) {
    io.stdout(formatJson({ command: 'doctor', exitCode: code, dryRun: true, site: report.site, webUser: report.webUser, checks: report.checks }));
  } else {
    const text = formatDoctor(report.checks, report.webUser, style, args.quiet, outputWidth(io.isTTY, io.columns));
    // quiet: failures go to stderr, like every other error.
    if (args.quiet) io.stderr(text);
    else io.stdout(text);
  }
  return code;
}

export const doctorCommand: CommandSpec = {
  command: 'doctor',
  describe: 'Will a dispatch from WP-cron work? Check every path as the web user meets it',
  options: [
    siteOption,
    {
      options: {
        'web-user': { type: 'string', array: true, describe: 'User PHP runs WP-cron as (default: env WEB_USER, else the user of the PHP-FPM pools, else www-data)', requiresArg: true },
      },
    },
  ],
  examples: [
    ['$0 doctor --site /var/www/html', 'check as the PHP-FPM pool user'],
    ['$0 doctor --site /var/www/html --web-user nginx --json', 'every check with id, status, message, fix'],
  ],
  epilogue: 'Exit codes: 0 no check failed (warnings allowed), 1 a check failed, no channel is installed, or doctor could not run. Text output wraps to the terminal (100 columns when not one).',
  // No root needed: doctor runs as whoever asks, and a probe only root can make (the sudo grant) says it skipped.
  writes: false,
  run: runDoctorCommand,
};
