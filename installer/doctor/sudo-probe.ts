/**
 * doctor's live probes, the only part of doctor that starts processes:
 * `php -l` of the managed PHP files, and the probes of the sudo dispatch
 * mode (sudo's version itself is a fact: facts/sudo.ts). Each probe returns a
 * result instead of printing or throwing; processes are started only
 * through an injectable Runner (model/process.ts), and the probes that need
 * the live host say so and are skipped in a sandbox root.
 *
 *   sudo.binary     sudo is installed, root-owned and setuid
 *   sudo.version    which grant form this sudo understands
 *   hop.file        each hop file matches what bridgectl would write, owner and mode included
 *   hop.dirs        no directory above a hop file is writable by anyone but root
 *   hop.cli         neither the CLI the hop runs nor a directory on the way to it (symlinks followed) is writable by anyone but root and the service user
 *   hop.visudo      the installed drop-in passes visudo -cf
 *   hop.grant       live, as root: each web user may run `<target> <subcommand> <sample>` as the service user, and not /bin/sh
 */
import { formatMode } from '../lib/access.js';
import { supportsSudoersRegex } from '../lib/sudo-version.js';
import { detectSudoVersion } from '../facts/sudo.js';
import { describeUnsafe, unsafeFix, unsafeHopPaths, type HopOwnersInput } from '../plan/hop-owners.js';
import type { Facts } from '../model/facts.js';
import { onHost } from '../lib/paths.js';
import type { FileChange } from '../model/plan.js';
import type { RunResult, Runner } from '../model/process.js';
import { processRunner } from '../process/run.js';
import { SUDO_PATHS, VISUDO_PATHS } from '../lib/sudo-paths.js';

/** How long a probe's process may take: sudo and visudo answer at once, unless something hangs. */
const PROBE_TIMEOUT_MS = 30_000;

/** One probe's process, its stdin empty. */
function probeRun(run: Runner, file: string, args: readonly string[]): RunResult {
  return run.runSync(file, args, { input: '', timeout: PROBE_TIMEOUT_MS });
}

/** `php -l` of one file. */
export type LintResult = { ok: true } | { ok: false; output: string };

/** `php -l FILE`; 'unavailable' when php could not be run (not installed…). */
export function phpLint(file: string, run: Runner = processRunner): LintResult | 'unavailable' {
  const r = run.runSync('php', ['-n', '-l', file], { timeout: 30_000 });
  if (r.error !== undefined) return 'unavailable';
  if (r.status === 0) return { ok: true };
  return { ok: false, output: `${r.stdout}${r.stderr}` };
}

export type ProbeStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface ProbeResult {
  id: string;
  status: ProbeStatus;
  /** One line: what was found. */
  message: string;
  /** What to do about a fail or warn. */
  fix?: string;
}

// ---------------------------------------------------------------- sudo itself

export function probeSudoBinary(host: Facts): ProbeResult {
  for (const sudo of SUDO_PATHS) {
    const facts = host.stat(sudo);
    if (!facts) continue;
    if (facts.uid !== 0 || (facts.mode & 0o4000) === 0) {
      return {
        id: 'sudo.binary',
        status: 'fail',
        message: `${sudo} is not setuid root (owner uid ${facts.uid}, mode ${formatMode(facts.mode)})`,
        fix: `reinstall sudo (apt-get install --reinstall sudo), or chown root ${sudo} && chmod 4755 ${sudo}`,
      };
    }
    return { id: 'sudo.binary', status: 'ok', message: `${sudo} is installed, root-owned and setuid` };
  }
  if (host.root !== '/') return { id: 'sudo.binary', status: 'skip', message: `no sudo under the sandbox root ${host.root}` };
  return { id: 'sudo.binary', status: 'fail', message: 'sudo is not installed: the wrapper exits 69', fix: 'apt-get install sudo' };
}

export function probeSudoVersion(host: Facts, run: Runner = processRunner): ProbeResult {
  if (host.root !== '/') return { id: 'sudo.version', status: 'skip', message: `not on the live host (--root ${host.root}): sudo -V not run` };
  const v = detectSudoVersion(run);
  if (!v) return { id: 'sudo.version', status: 'fail', message: 'sudo -V gave no version', fix: 'apt-get install sudo' };
  return supportsSudoersRegex(v)
    ? { id: 'sudo.version', status: 'ok', message: `sudo ${v.text} matches the grant's arguments with a regular expression` }
    : { id: 'sudo.version', status: 'ok', message: `sudo ${v.text} predates sudoers regular expressions (1.9.10): the grant uses wildcards plus a negated entry` };
}

// ---------------------------------------------------------------- the files

/** What the probes are told about one bridge's hop (plan/sudo-hop.ts's HopFacts has this shape). */
export interface HopUnderTest {
  bridge: string;
  paths: { target: string; wrapper: string; sudoers: string };
  serviceUser: string;
  webUsers: readonly string[];
  subcommand: string;
  sample: string;
  /** The CLI the target runs, its name, and the uid it runs as (hop.cli). */
  cli?: string;
  binaryName?: string;
  serviceUid?: number;
}

/**
 * Each hop file against the plan's FileChange for it (what bridgectl would
 * write): content byte for byte, mode, and root ownership. `upgrade` is the
 * command the fixes name (doctor adds the site).
 */
export function probeHopFiles(host: Facts, expected: readonly FileChange[], upgrade = 'bridgectl upgrade'): ProbeResult[] {
  return expected.map((change) => {
    const id = 'hop.file';
    const facts = host.lstat(change.path);
    if (!facts) return { id, status: 'fail', message: `${change.path} is missing`, fix: upgrade };
    if (facts.kind !== 'file') return { id, status: 'fail', message: `${change.path} is a ${facts.kind}, not a regular file`, fix: `remove it, then ${upgrade}` };
    const problems: string[] = [];
    const text = host.readText(change.path);
    if (text !== change.after) problems.push('its content differs from what bridgectl writes');
    if (facts.mode !== change.mode) problems.push(`mode ${formatMode(facts.mode)}, want ${formatMode(change.mode)}`);
    const owner = change.owner ?? { uid: 0, gid: 0 };
    if (facts.uid !== owner.uid || facts.gid !== owner.gid) problems.push(`owner ${facts.uid}:${facts.gid}, want ${owner.uid}:${owner.gid}`);
    return problems.length === 0
      ? { id, status: 'ok', message: `${change.path} is as bridgectl writes it (${formatMode(change.mode)}, ${owner.uid}:${owner.gid})` }
      : { id, status: 'fail', message: `${change.path}: ${problems.join('; ')}`, fix: `${upgrade} (it rewrites the file byte for byte)` };
  });
}

/** What hop-owners.ts checks, for a hop under test. */
function ownersInput(hop: HopUnderTest): HopOwnersInput {
  return { bridgeId: hop.bridge, binaryName: hop.binaryName ?? 'CLI', cli: hop.cli ?? '/', serviceUser: hop.serviceUser, serviceUid: hop.serviceUid ?? 0, paths: hop.paths };
}

/** A directory above a hop file that someone other than root can write would let them swap the file (hop-owners.ts). */
export function probeHopDirectories(host: Facts, hop: HopUnderTest): ProbeResult {
  const input = ownersInput(hop);
  const bad = unsafeHopPaths(host, input).filter((u) => u.part === 'hop');
  return bad.length === 0
    ? { id: 'hop.dirs', status: 'ok', message: 'every directory above the hop files is root-owned and writable only by root' }
    : { id: 'hop.dirs', status: 'fail', message: describeUnsafe(bad), fix: unsafeFix(bad, input) };
}

/**
 * The CLI the hop runs, and every directory on the way to it (symlinks
 * followed): writable by anyone but root and the service user, they would
 * let that user run anything as the service user — as root with
 * --run-as-root (hop-owners.ts).
 */
export function probeHopCli(host: Facts, hop: HopUnderTest): ProbeResult {
  if (hop.cli === undefined) return { id: 'hop.cli', status: 'skip', message: 'no CLI path known for this hop' };
  const input = ownersInput(hop);
  const bad = unsafeHopPaths(host, input).filter((u) => u.part === 'cli');
  const who = input.serviceUid === 0 ? 'root' : `root and ${hop.serviceUser}`;
  return bad.length === 0
    ? { id: 'hop.cli', status: 'ok', message: `${hop.cli} and every directory on the way to it are writable only by ${who}` }
    : { id: 'hop.cli', status: 'fail', message: describeUnsafe(bad), fix: unsafeFix(bad, input) };
}


/** `visudo -cf` on the installed drop-in (works in a sandbox root too: it checks syntax only). */
export function probeVisudo(host: Facts, hop: HopUnderTest, run: Runner = processRunner, upgrade = 'bridgectl upgrade'): ProbeResult {
  if (!host.lstat(hop.paths.sudoers)) return { id: 'hop.visudo', status: 'skip', message: `${hop.paths.sudoers} is missing` };
  for (const visudo of VISUDO_PATHS) {
    const r = probeRun(run, visudo, ['-c', '-f', onHost(host.root, hop.paths.sudoers)]);
    if (r.error === 'ENOENT') continue;
    return r.status === 0
      ? { id: 'hop.visudo', status: 'ok', message: `${hop.paths.sudoers} passes visudo -cf` }
      : {
          id: 'hop.visudo',
          status: 'fail',
          message: `${hop.paths.sudoers} fails visudo -cf: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`,
          fix: `${upgrade} rewrites it; with sudo >= 1.9.13 a broken drop-in makes sudo complain on every call, older sudo refuses everyone`,
        };
  }
  return { id: 'hop.visudo', status: 'skip', message: 'visudo is not installed', fix: 'apt-get install sudo' };
}

/**
 * The real thing, as each web user: `sudo -n -l` must allow the target with
 * a sample recipient and must refuse /bin/sh. Needs the live host and root
 * (to become the web user through setpriv).
 */
export function probeGrant(host: Facts, hop: HopUnderTest, run: Runner = processRunner, isRoot = host.uid === 0, upgrade = 'bridgectl upgrade'): ProbeResult[] {
  if (host.root !== '/') return [{ id: 'hop.grant', status: 'skip', message: `not on the live host (--root ${host.root}): the grant was not tried` }];
  if (!isRoot) return [{ id: 'hop.grant', status: 'skip', message: 'not running as root: cannot try the grant as the web user', fix: 'run doctor as root' }];
  const sudo = SUDO_PATHS.find((p) => host.stat(p));
  if (!sudo) return [{ id: 'hop.grant', status: 'fail', message: 'sudo is not installed', fix: 'apt-get install sudo' }];
  const results: ProbeResult[] = [];
  for (const user of hop.webUsers) {
    const entry = host.user(user);
    if (!entry) {
      results.push({ id: 'hop.grant', status: 'fail', message: `web user ${user} does not exist`, fix: `${upgrade} --web-user <the user PHP runs as>` });
      continue;
    }
    const asUser = (...cmd: string[]): RunResult =>
      probeRun(run, 'setpriv', [`--reuid=${entry.uid}`, `--regid=${entry.gid}`, '--init-groups', '--reset-env', '--', sudo, '-n', '-l', '-u', hop.serviceUser, '--', ...cmd]);
    const allowed = asUser(hop.paths.target, hop.subcommand, hop.sample);
    if (allowed.error === 'ENOENT') {
      results.push({ id: 'hop.grant', status: 'skip', message: 'setpriv is not installed: cannot become the web user', fix: 'apt-get install util-linux' });
      continue;
    }
    if (allowed.status !== 0) {
      results.push({
        id: 'hop.grant',
        status: 'fail',
        message: `as ${user}: sudo refuses ${hop.paths.target} ${hop.subcommand} ${hop.sample} as ${hop.serviceUser}${allowed.stderr.trim() ? ` (${allowed.stderr.trim()})` : ''}`,
        fix: `${upgrade} rewrites ${hop.paths.sudoers}; check that /etc/sudoers has @includedir /etc/sudoers.d`,
      });
      continue;
    }
    const shell = asUser('/bin/sh');
    results.push(
      shell.status === 0
        ? { id: 'hop.grant', status: 'fail', message: `as ${user}: sudo also allows /bin/sh as ${hop.serviceUser}: some other grant is far wider than the hop`, fix: `sudo -l -U ${user}` }
        : { id: 'hop.grant', status: 'ok', message: `as ${user}: sudo allows the hop to ${hop.serviceUser} and refuses /bin/sh` },
    );
  }
  return results;
}

/** Every probe for one bridge's hop, in a stable order. */
export function probeSudoHop(host: Facts, hop: HopUnderTest, expected: readonly FileChange[], run: Runner = processRunner): ProbeResult[] {
  return [
    probeSudoBinary(host),
    probeSudoVersion(host, run),
    ...probeHopFiles(host, expected),
    probeHopDirectories(host, hop),
    probeHopCli(host, hop),
    probeVisudo(host, hop, run),
    ...probeGrant(host, hop, run),
  ];
}

