import { diagnose, type LintResult } from '../../doctor/doctor.js';
import { type Check } from '../../model/doctor.js';
import type { Facts } from '../../model/facts.js';
import { resolveSite } from '../../identity/identity.js';
import { channelsFile, onHost, transportFile } from '../../lib/paths.js';
import type { Runner } from '../../doctor/sudo-probe.js';
import { resolveWebUser } from '../../identity/web-user.js';
import { type WebUser } from '../../model/web-user.js';

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

/**
 * `php -l FILE`; node:child_process rather than execa, which is slow to
 * import for one call, and loaded here rather than at startup.
 */
export function phpLint(file: string): LintResult | 'unavailable' {
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('php', ['-n', '-l', file], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return 'unavailable';
  if (r.status === 0) return { ok: true };
  return { ok: false, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
