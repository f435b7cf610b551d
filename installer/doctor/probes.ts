/**
 * The sudo dispatch mode's probes, decided over the Facts alone (pure). The
 * ones answered from facts are results here; the ones that must start a
 * process (visudo, the grant as each web user, and php -l of the managed
 * files) are named here as a LiveProbe, which doctor's live step
 * (sudo-probe.ts) runs after the diagnosis, in one place.
 *
 *   sudo.binary     sudo is installed, root-owned and setuid
 *   sudo.version    which grant form this sudo understands (the sudo fact: `sudo -V`)
 *   hop.file        each hop file matches what bridgectl would write, owner and mode included
 *   hop.dirs        no directory above a hop file is writable by anyone but root
 *   hop.cli         neither the CLI the hop runs nor a directory on the way to it (symlinks followed) is writable by anyone but root and the service user
 *   hop.visudo      live: the installed drop-in passes visudo -cf
 *   hop.grant       live, as root: each web user may run `<target> <subcommand> <sample>` as the service user, and not /bin/sh
 */
import { formatMode } from '../lib/access.js';
import { supportsSudoersRegex } from '../lib/sudo-version.js';
import { describeUnsafe, unsafeFix, unsafeHopPaths, type HopOwnersInput } from '../plan/hop-owners.js';
import type { Check } from '../model/doctor.js';
import type { Facts } from '../model/facts.js';
import type { FileChange } from '../model/plan.js';
import { SUDO_PATHS } from '../lib/sudo-paths.js';

/** `php -l` of one file. */
export type LintResult = { ok: true } | { ok: false; output: string };

export type ProbeStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface ProbeResult {
  id: string;
  status: ProbeStatus;
  /** One line: what was found. */
  message: string;
  /** What to do about a fail or warn. */
  fix?: string;
}

/** `visudo -cf` of an installed drop-in (`sudoers` is a server path). */
export interface VisudoProbe {
  kind: 'visudo';
  sudoers: string;
  upgrade: string;
}

/** `sudo -n -l` as one web user (through setpriv, as root), for the hop's target and for /bin/sh. */
export interface GrantProbe {
  kind: 'grant';
  user: string;
  uid: number;
  gid: number;
  /** The sudo binary found on the host. */
  sudo: string;
  serviceUser: string;
  target: string;
  subcommand: string;
  sample: string;
  sudoers: string;
  upgrade: string;
}

/** `php -l` of a managed PHP file; `lintable` is false when it is not a regular file (nothing is run). */
export interface LintProbe {
  kind: 'php-lint';
  area: 'channels' | 'transport';
  file: string;
  site: string;
  lintable: boolean;
}

/** A probe that starts a process: the diagnosis names it, the live step runs it. */
export type LiveProbe = VisudoProbe | GrantProbe | LintProbe;

/** What running a live probe gave: a php -l result ('unavailable': no php), or a sudo probe's result. */
export type ProbeOutcome = LintResult | 'unavailable' | ProbeResult;

/** A live probe in the diagnosis, where its check will stand; `id` is that check's id. */
export interface PendingCheck {
  id: string;
  probe: LiveProbe;
}

/** What the pure diagnosis yields, in report order: checks, and the places of the live probes' checks. */
export type Finding = Check | PendingCheck;

export function isPending(f: Finding): f is PendingCheck {
  return 'probe' in f;
}

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

/** A probe's result as a check: a skipped probe is `ok` in a sandbox root, `warn` on the live host. */
export function fromProbe(id: string, p: ProbeResult, root: string): Check {
  if (p.status !== 'skip') return { id, status: p.status, message: p.message, ...(p.fix ? { fix: p.fix } : {}) };
  if (root !== '/') return { id, status: 'ok', message: `skipped: ${p.message}` };
  return { id, status: 'warn', message: `skipped: ${p.message}`, fix: p.fix ?? 'sudo bridgectl doctor (on the server, as root)' };
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

/** From the sudo fact (facts/sudo.ts: `sudo -V`, read once per snapshot like every fact). */
export function probeSudoVersion(host: Facts): ProbeResult {
  if (host.root !== '/') return { id: 'sudo.version', status: 'skip', message: `not on the live host (--root ${host.root}): sudo -V not run` };
  const probe = host.sudo();
  const v = probe.live ? probe.version : undefined;
  if (!v) return { id: 'sudo.version', status: 'fail', message: 'sudo -V gave no version', fix: 'apt-get install sudo' };
  return supportsSudoersRegex(v)
    ? { id: 'sudo.version', status: 'ok', message: `sudo ${v.text} matches the grant's arguments with a regular expression` }
    : { id: 'sudo.version', status: 'ok', message: `sudo ${v.text} predates sudoers regular expressions (1.9.10): the grant uses wildcards plus a negated entry` };
}

// ---------------------------------------------------------------- the files

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

// ---------------------------------------------------------------- what the live probes need

/** visudo -cf needs the drop-in (it works in a sandbox root too: it checks syntax only). */
export function visudoProbe(host: Facts, hop: HopUnderTest, upgrade = 'bridgectl upgrade'): ProbeResult | VisudoProbe {
  if (!host.lstat(hop.paths.sudoers)) return { id: 'hop.visudo', status: 'skip', message: `${hop.paths.sudoers} is missing` };
  return { kind: 'visudo', sudoers: hop.paths.sudoers, upgrade };
}

/**
 * Trying the grant as each web user needs the live host, root (to become
 * the web user through setpriv), sudo, and the user.
 */
export function grantProbes(host: Facts, hop: HopUnderTest, isRoot = host.uid === 0, upgrade = 'bridgectl upgrade'): (ProbeResult | GrantProbe)[] {
  if (host.root !== '/') return [{ id: 'hop.grant', status: 'skip', message: `not on the live host (--root ${host.root}): the grant was not tried` }];
  if (!isRoot) return [{ id: 'hop.grant', status: 'skip', message: 'not running as root: cannot try the grant as the web user', fix: `sudo ${upgrade.replace(/^bridgectl upgrade\b/, 'bridgectl doctor')}` }];
  const sudo = SUDO_PATHS.find((p) => host.stat(p));
  if (!sudo) return [{ id: 'hop.grant', status: 'fail', message: 'sudo is not installed', fix: 'apt-get install sudo' }];
  return hop.webUsers.map((user) => {
    const entry = host.user(user);
    if (!entry) return { id: 'hop.grant', status: 'fail', message: `web user ${user} does not exist`, fix: `${upgrade} --web-user <the user PHP runs as>` };
    const { serviceUser, subcommand, sample } = hop;
    return { kind: 'grant', user, uid: entry.uid, gid: entry.gid, sudo, serviceUser, target: hop.paths.target, subcommand, sample, sudoers: hop.paths.sudoers, upgrade };
  });
}
