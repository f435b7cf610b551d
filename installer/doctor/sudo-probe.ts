/**
 * doctor's live step, the only part of doctor that starts processes: it
 * runs the LiveProbes the pure diagnosis named (probes.ts) — `php -l` of
 * the managed PHP files, `visudo -cf` of a hop's drop-in, and the grant
 * tried as each web user — and returns what each gave, as data. It reads
 * nothing through the Facts: what a probe needs (paths, uids, the sudo
 * binary) was decided over the snapshot. Processes start only through an
 * injectable Runner (model/process.ts).
 */
import type { Facts } from '../model/facts.js';
import { onHost } from '../lib/paths.js';
import type { FileChange } from '../model/plan.js';
import type { RunResult, Runner } from '../model/process.js';
import { processRunner } from '../process/run.js';
import { VISUDO_PATHS } from '../lib/sudo-paths.js';
import {
  grantProbes,
  probeHopCli,
  probeHopDirectories,
  probeHopFiles,
  probeSudoBinary,
  probeSudoVersion,
  visudoProbe,
  type GrantProbe,
  type HopUnderTest,
  type LintResult,
  type LiveProbe,
  type ProbeOutcome,
  type ProbeResult,
  type VisudoProbe,
} from './probes.js';

/** How long a probe's process may take: sudo and visudo answer at once, unless something hangs. */
const PROBE_TIMEOUT_MS = 30_000;

/** One probe's process, its stdin empty. */
function probeRun(run: Runner, file: string, args: readonly string[]): RunResult {
  return run.runSync(file, args, { input: '', timeout: PROBE_TIMEOUT_MS });
}

/** `php -l FILE`; 'unavailable' when php could not be run (not installed…). */
export function phpLint(file: string, run: Runner = processRunner): LintResult | 'unavailable' {
  const r = run.runSync('php', ['-n', '-l', file], { timeout: 30_000 });
  if (r.error !== undefined) return 'unavailable';
  if (r.status === 0) return { ok: true };
  return { ok: false, output: `${r.stdout}${r.stderr}` };
}

export interface LiveProbeOptions {
  /** Starts visudo, setpriv and sudo (tests replace it). */
  run?: Runner;
  /** `php -l` of one host path (tests replace it). */
  lint?: (file: string) => LintResult | 'unavailable';
}

/**
 * Run every live probe, in order, under --root `root`. Once php turns out
 * to be unavailable no file is linted any more, and every php -l probe
 * answers 'unavailable' (doctor then says so for each managed file).
 */
export function runLiveProbes(probes: readonly LiveProbe[], root: string, options: LiveProbeOptions = {}): Map<LiveProbe, ProbeOutcome> {
  const run = options.run ?? processRunner;
  const lint = options.lint ?? ((file: string) => phpLint(file, run));
  const outcomes = new Map<LiveProbe, ProbeOutcome>();
  let php = true;
  for (const probe of probes) {
    if (probe.kind === 'php-lint') {
      if (!php || !probe.lintable) continue;
      const result = lint(onHost(root, probe.file));
      if (result === 'unavailable') php = false;
      else outcomes.set(probe, result);
    } else {
      outcomes.set(probe, probe.kind === 'visudo' ? runVisudo(probe, root, run) : runGrant(probe, run));
    }
  }
  if (!php) for (const probe of probes) if (probe.kind === 'php-lint') outcomes.set(probe, 'unavailable');
  return outcomes;
}

/** `visudo -cf` on the installed drop-in, with the first visudo at a fixed system path. */
export function runVisudo(probe: VisudoProbe, root: string, run: Runner = processRunner): ProbeResult {
  for (const visudo of VISUDO_PATHS) {
    const r = probeRun(run, visudo, ['-c', '-f', onHost(root, probe.sudoers)]);
    if (r.error === 'ENOENT') continue;
    return r.status === 0
      ? { id: 'hop.visudo', status: 'ok', message: `${probe.sudoers} passes visudo -cf` }
      : {
          id: 'hop.visudo',
          status: 'fail',
          message: `${probe.sudoers} fails visudo -cf: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`,
          fix: `${probe.upgrade} rewrites it; with sudo >= 1.9.13 a broken drop-in makes sudo complain on every call, older sudo refuses everyone`,
        };
  }
  return { id: 'hop.visudo', status: 'skip', message: 'visudo is not installed', fix: 'apt-get install sudo' };
}

/** The real thing, as one web user: `sudo -n -l` must allow the target with a sample recipient and must refuse /bin/sh. */
export function runGrant(probe: GrantProbe, run: Runner = processRunner): ProbeResult {
  const { user, serviceUser, target, subcommand, sample } = probe;
  const asUser = (...cmd: string[]): RunResult =>
    probeRun(run, 'setpriv', [`--reuid=${probe.uid}`, `--regid=${probe.gid}`, '--init-groups', '--reset-env', '--', probe.sudo, '-n', '-l', '-u', serviceUser, '--', ...cmd]);
  const allowed = asUser(target, subcommand, sample);
  if (allowed.error === 'ENOENT') return { id: 'hop.grant', status: 'skip', message: 'setpriv is not installed: cannot become the web user', fix: 'apt-get install util-linux' };
  if (allowed.status !== 0) {
    return {
      id: 'hop.grant',
      status: 'fail',
      message: `as ${user}: sudo refuses ${target} ${subcommand} ${sample} as ${serviceUser}${allowed.stderr.trim() ? ` (${allowed.stderr.trim()})` : ''}`,
      fix: `${probe.upgrade} rewrites ${probe.sudoers}; check that /etc/sudoers has @includedir /etc/sudoers.d`,
    };
  }
  const shell = asUser('/bin/sh');
  return shell.status === 0
    ? { id: 'hop.grant', status: 'fail', message: `as ${user}: sudo also allows /bin/sh as ${serviceUser}: some other grant is far wider than the hop`, fix: `sudo -l -U ${user}` }
    : { id: 'hop.grant', status: 'ok', message: `as ${user}: sudo allows the hop to ${serviceUser} and refuses /bin/sh` };
}

// ---------------------------------------------------------------- one hop, probed at once (over a live Facts)

/** `visudo -cf` on the installed drop-in (works in a sandbox root too: it checks syntax only). */
export function probeVisudo(host: Facts, hop: HopUnderTest, run: Runner = processRunner, upgrade = 'bridgectl upgrade'): ProbeResult {
  const probe = visudoProbe(host, hop, upgrade);
  return 'kind' in probe ? runVisudo(probe, host.root, run) : probe;
}

/** The grant as each web user; needs the live host and root (to become the web user through setpriv). */
export function probeGrant(host: Facts, hop: HopUnderTest, run: Runner = processRunner, isRoot = host.uid === 0, upgrade = 'bridgectl upgrade'): ProbeResult[] {
  return grantProbes(host, hop, isRoot, upgrade).map((p) => ('kind' in p ? runGrant(p, run) : p));
}

/** Every probe for one bridge's hop, in a stable order. */
export function probeSudoHop(host: Facts, hop: HopUnderTest, expected: readonly FileChange[], run: Runner = processRunner): ProbeResult[] {
  return [
    probeSudoBinary(host),
    probeSudoVersion(host),
    ...probeHopFiles(host, expected),
    probeHopDirectories(host, hop),
    probeHopCli(host, hop),
    probeVisudo(host, hop, run),
    ...probeGrant(host, hop, run),
  ];
}
