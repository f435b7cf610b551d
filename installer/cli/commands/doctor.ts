import { diagnose, type LintResult } from '../../doctor/doctor.js';
import { type Check } from '../../model/doctor.js';
import type { Facts } from '../../model/facts.js';
import { resolveSite } from '../../identity/identity.js';
import { channelsFile, onHost, transportFile } from '../../lib/paths.js';
import { phpLint } from '../../doctor/sudo-probe.js';
import type { Runner } from '../../model/process.js';
import { resolveWebUser } from '../../identity/web-user.js';
import { type WebUser } from '../../model/web-user.js';
import { doctorExitCode } from '../../doctor/doctor.js';
import { UsageError } from '../../model/errors.js';
import { formatDoctor, formatJson } from '../../report/report.js';
import { siteOption } from '../options.js';
import type { CommandContext, CommandSpec } from '../types.js';

export interface DoctorOptions {
  site?: string;
  webUser?: string;
  /** The sudo probes' process runner and whether doctor runs as root (tests replace them). */
  run?: Runner;
  isRoot?: boolean;
}

export interface DoctorReport {
  site: string;
  webUser: WebUser;
  checks: Check[];
}

/** Gather the facts doctor cannot get through the Facts (php -l), then diagnose. Reads only. */
export function runDoctor(options: DoctorOptions, host: Facts, lint: (file: string) => LintResult | 'unavailable' = phpLint): DoctorReport {
  const site = resolveSite(options, host);
  const webUser = resolveWebUser(options.webUser, host);
  const results = new Map<string, LintResult>();
  let available = true;
  for (const file of [channelsFile(site), transportFile(site)]) {
    if (!available || host.stat(file)?.kind !== 'file') continue;
    const result = lint(onHost(host.root, file));
    if (result === 'unavailable') available = false;
    else results.set(file, result);
  }
  const probes = { ...(options.run ? { run: options.run } : {}), ...(options.isRoot !== undefined ? { isRoot: options.isRoot } : {}) };
  return { site, webUser, checks: diagnose({ host, site, webUser, lint: available ? results : 'unavailable', ...probes }) };
}


function runDoctorCommand({ args, io, style, host }: CommandContext): number {
  const [webUser, ...more] = args.webUser ?? [];
  if (more.length) throw new UsageError('doctor checks one web user at a time: run it once per --web-user');
  const options = {
    ...(args.site !== undefined ? { site: args.site } : {}),
    ...(webUser !== undefined ? { webUser } : {}),
  };
  const report = runDoctor(options, host());
  const code = doctorExitCode(report.checks);
  if (args.json) {
    io.stdout(formatJson({ command: 'doctor', exitCode: code, dryRun: true, site: report.site, webUser: report.webUser, checks: report.checks }));
  } else {
    const text = formatDoctor(report.checks, report.webUser, style, args.quiet);
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
  epilogue: 'Exit codes: 0 no check failed (warnings allowed), 1 a check failed or doctor could not run.',
  writes: false,
  run: runDoctorCommand,
};
