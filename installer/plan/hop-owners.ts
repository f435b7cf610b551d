/**
 * Who could change what the sudo hop runs (#17 item 1). The hop lets the
 * web user run the bridge CLI as the service user (root with
 * --run-as-root): whoever can write the CLI, or a directory on the way to
 * it, or a directory above the target, the wrapper or the grant, can swap
 * one of them and run anything as that user. So each entry a lookup of
 * those paths passes through (every directory searched, symlinks followed,
 * and the CLI itself) must be writable by root alone — and, for the CLI and
 * its directories, by the user it already runs as.
 *
 * "Writable by" is decided from owner and mode, as the kernel would (no
 * ACLs): an owner who is not trusted; group write for a group other than
 * root's (gid 0); any world write, sticky or not (a file in /tmp can be
 * replaced by its owner, and in a sticky directory anyone may add names).
 *
 * The hop's own files are not checked here: bridgectl rewrites them
 * root-owned with their modes (a drifted owner or mode is a change in the
 * plan, and doctor's hop.file fails on it). Facts come from the Facts, so a
 * sandbox --root is judged on its own ownership; when bridgectl does not
 * run as root there (a staging tree it cannot chown), the user running it
 * counts as root.
 */
import path from 'node:path';
import { formatMode } from '../lib/access.js';
import type { Facts, PathFacts } from '../model/facts.js';

/** One path someone other than root (or the CLI's own user) could write. */
export interface UnsafePath {
  /** Which check found it: the CLI's lookup, or a directory above a hop file. */
  part: 'cli' | 'hop';
  path: string;
  /** "owned by www-data (uid 33)", "group-writable (group staff, mode 0775)", "world-writable (mode 1777)". */
  why: string;
  /** Who could write it: "www-data", "group staff", "any local user". */
  who: string;
  /** What swapping it changes: "the kimaki CLI", at `file`, and how it runs (", which the hop runs as root"). */
  guards: { what: string; file: string; runs: string };
  /** A directory shared on purpose (sticky, like /tmp): `chmod go-w` is no fix there. */
  shared: boolean;
}

export interface HopOwnersInput {
  bridgeId: string;
  binaryName: string;
  /** The CLI the target runs, and the user it runs as. */
  cli: string;
  serviceUser: string;
  serviceUid: number;
  paths: { target: string; wrapper: string; sudoers: string };
}

/** Who runs bridgectl: trusted like root only in a sandbox root it cannot chown. */
export interface Invoker {
  uid: number;
  gid: number;
}

const MAX_LINKS = 40;

/**
 * Each entry a lookup of `serverPath` passes through, in order: `/`, every
 * directory searched, and the final entry, with symlinks followed (the
 * link's own directory is searched, then its target's path). Stops at the
 * first missing entry: what does not exist yet, bridgectl creates as root.
 */
export function lookupEntries(host: Facts, serverPath: string): { path: string; facts: PathFacts }[] {
  const out: { path: string; facts: PathFacts }[] = [];
  const top = host.lstat('/');
  if (top) out.push({ path: '/', facts: top });
  let pending = serverPath.split('/').filter(Boolean);
  let current = '/';
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      current = path.posix.dirname(current);
      continue;
    }
    const next = path.posix.join(current, name);
    const facts = host.lstat(next);
    if (facts === undefined) break;
    if (facts.kind === 'symlink') {
      const link = host.readLink(next);
      if (link === undefined || ++links > MAX_LINKS) break;
      if (link.startsWith('/')) current = '/';
      pending = [...link.split('/').filter(Boolean), ...pending];
      continue;
    }
    out.push({ path: next, facts });
    current = next;
  }
  return out;
}

interface Trust {
  uids: ReadonlySet<number>;
  gids: ReadonlySet<number>;
}

function writers(facts: PathFacts, trust: Trust, host: Facts): Pick<UnsafePath, 'why' | 'who'> | undefined {
  if (!trust.uids.has(facts.uid)) {
    const name = host.userByUid(facts.uid)?.name;
    return { why: `owned by ${name ? `${name} (uid ${facts.uid})` : `uid ${facts.uid}`}`, who: name ?? `uid ${facts.uid}` };
  }
  if ((facts.mode & 0o020) !== 0 && !trust.gids.has(facts.gid)) {
    const group = host.groupName(facts.gid) ?? `gid ${facts.gid}`;
    return { why: `group-writable (group ${group}, mode ${formatMode(facts.mode)})`, who: `group ${group}` };
  }
  if ((facts.mode & 0o002) !== 0) return { why: `world-writable (mode ${formatMode(facts.mode)})`, who: 'any local user' };
  return undefined;
}

/** Every path above (or on the way to) what the hop runs that someone untrusted could write, CLI first; each path once. */
export function unsafeHopPaths(host: Facts, input: HopOwnersInput, invoker: Invoker = { uid: host.uid, gid: host.gid }): UnsafePath[] {
  const uids = new Set([0]);
  const gids = new Set([0]);
  if (host.root !== '/' && invoker.uid !== 0) {
    uids.add(invoker.uid);
    gids.add(invoker.gid);
  }
  const cliTrust = { uids: new Set([...uids, input.serviceUid]), gids };
  const runsAs = input.serviceUser;
  const hopTrust = { uids, gids };
  const checks: { part: UnsafePath['part']; lookup: string; trust: Trust; guards: UnsafePath['guards'] }[] = [
    { part: 'cli', lookup: input.cli, trust: cliTrust, guards: { what: `the ${input.binaryName} CLI`, file: input.cli, runs: `, which the hop runs as ${runsAs}` } },
    { part: 'hop', lookup: path.posix.dirname(input.paths.target), trust: hopTrust, guards: { what: 'the dispatch target', file: input.paths.target, runs: `, which sudo runs as ${runsAs}` } },
    { part: 'hop', lookup: path.posix.dirname(input.paths.wrapper), trust: hopTrust, guards: { what: 'the wrapper', file: input.paths.wrapper, runs: ', which the channel runs' } },
    { part: 'hop', lookup: path.posix.dirname(input.paths.sudoers), trust: hopTrust, guards: { what: 'the sudoers grant', file: input.paths.sudoers, runs: '' } },
  ];
  // A directory on several lookups is judged by each (the CLI's trusts one more user); it is reported once.
  const out: UnsafePath[] = [];
  for (const check of checks) {
    for (const entry of lookupEntries(host, check.lookup)) {
      const who = writers(entry.facts, check.trust, host);
      if (who && !out.some((u) => u.path === entry.path)) out.push({ part: check.part, path: entry.path, ...who, guards: check.guards, shared: (entry.facts.mode & 0o1000) !== 0 });
    }
  }
  return out;
}

/** One line for the first problem (and how many more), for a refusal or a doctor check. */
export function describeUnsafe(unsafe: readonly UnsafePath[]): string {
  const [first, ...rest] = unsafe;
  if (!first) return '';
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more: ${rest.map((u) => u.path).join(', ')})`;
  const { what, file, runs } = first.guards;
  return `${first.path} is ${first.why}, so ${first.who} could change ${what}${file === first.path ? '' : ` ${file}`}${runs}${more}`;
}

/** What to do about the first problem. */
export function unsafeFix(unsafe: readonly UnsafePath[], input: Pick<HopOwnersInput, 'binaryName' | 'serviceUser' | 'serviceUid'>): string {
  const first = unsafe[0];
  if (!first) return '';
  const who = input.serviceUid === 0 ? 'root' : `root (or ${input.serviceUser})`;
  const chown = first.shared ? '' : `chown root:root ${first.path} && chmod go-w ${first.path}`;
  if (first.part === 'cli') {
    const move = `install ${input.binaryName} where only ${who} can write it (e.g. /usr/local/bin) and pass --binary`;
    return chown ? `${move}, or: ${chown}` : move;
  }
  return chown ? `${chown} (bridgectl writes the sudo hop there as root)` : `keep the sudo hop's files out of ${first.path}`;
}
