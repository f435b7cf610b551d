/**
 * "Can this user get there, and do that?" for whole paths: every directory
 * above must be searchable (x), then the target needs its own bits. Decided
 * from stat facts through the Facts with canAccess (never access(2)), so it
 * answers for any user, in a sandbox root, without privileges. Pure.
 */
import path from 'node:path';
import { canAccess, formatMode, type Access, type Principal } from './access.js';
import type { Facts, PasswdEntry, PathFacts } from '../model/facts.js';

/** A user as doctor reasons about it. */
export interface Who {
  name: string;
  entry: PasswdEntry;
  principal: Principal;
  /** Primary group's name (or its gid as text). */
  group: string;
}

export function whoIs(entry: PasswdEntry, host: Facts): Who {
  return {
    name: entry.name,
    entry,
    principal: { uid: entry.uid, gids: host.groupIds(entry) },
    group: host.groupName(entry.gid) ?? String(entry.gid),
  };
}

/** Why a path is out of reach. */
export interface Denial {
  /** The path that stops the user (the target, or a directory above it). */
  path: string;
  facts?: PathFacts;
  reason: 'missing' | 'not-a-directory' | 'no-search' | 'no-read' | 'no-write' | 'no-exec';
  /** Every directory on the way the user cannot search (for a complete fix). */
  unsearchable: { path: string; facts: PathFacts }[];
  /** Where the target resolves to, when symlinks are involved. */
  via?: string;
}

/** Directories strictly above `serverPath`, from / down. */
export function ancestors(serverPath: string): string[] {
  const out: string[] = [];
  let dir = path.posix.dirname(path.posix.normalize(serverPath));
  for (;;) {
    out.unshift(dir);
    if (dir === '/') break;
    dir = path.posix.dirname(dir);
  }
  return out;
}

/**
 * Resolve symlinks in server-path space (an absolute link target is a
 * server path, so this is right under a sandbox --root too). Stops at the
 * first missing component and keeps the rest as given.
 */
export function realPath(host: Facts, serverPath: string): string {
  let parts = path.posix.normalize(serverPath).split('/').filter(Boolean);
  let resolved = '/';
  for (let hops = 0, i = 0; i < parts.length; ) {
    const next = path.posix.join(resolved, parts[i] ?? '');
    const facts = host.lstat(next);
    if (!facts) return path.posix.join(next, ...parts.slice(i + 1));
    if (facts.kind !== 'symlink') {
      resolved = next;
      i++;
      continue;
    }
    if (++hops > 40) return path.posix.join(next, ...parts.slice(i + 1)); // a loop: ELOOP for the kernel too
    const target = host.readLink(next) ?? '';
    const base = path.posix.isAbsolute(target) ? target : path.posix.join(resolved, target);
    parts = [...path.posix.normalize(base).split('/').filter(Boolean), ...parts.slice(i + 1)];
    resolved = '/';
    i = 0;
  }
  return resolved;
}

/**
 * The directories the kernel searches to reach `serverPath`: those leading to
 * it and, when it is a symlink, those leading to what it points at.
 */
function searchedDirectories(host: Facts, serverPath: string): { dirs: string[]; real: string } {
  const real = realPath(host, serverPath);
  const linkDir = realPath(host, path.posix.dirname(path.posix.normalize(serverPath)));
  const dirs = [...ancestors(path.posix.join(linkDir, 'x')), ...ancestors(real)];
  return { dirs: [...new Set(dirs)], real };
}

/** The directories on the way that `who` cannot search; the first missing or non-directory one stops the walk. */
function walk(host: Facts, who: Principal, dirs: readonly string[]): { unsearchable: { path: string; facts: PathFacts }[]; broken?: Denial } {
  const unsearchable: { path: string; facts: PathFacts }[] = [];
  for (const dir of dirs) {
    const facts = host.stat(dir);
    if (!facts) return { unsearchable, broken: { path: dir, reason: 'missing', unsearchable } };
    if (!facts.isDirectory) return { unsearchable, broken: { path: dir, facts, reason: 'not-a-directory', unsearchable } };
    if (!canAccess(who, facts, 'x')) unsearchable.push({ path: dir, facts });
  }
  return { unsearchable };
}

/** Can `who` reach `serverPath` (following symlinks) and access it as `want`? undefined when yes. */
export function denial(host: Facts, who: Principal, serverPath: string, want: readonly Access[]): Denial | undefined {
  const { dirs, real } = searchedDirectories(host, serverPath);
  const via = real === path.posix.normalize(serverPath) ? {} : { via: real };
  const { unsearchable, broken } = walk(host, who, dirs);
  if (broken) return { ...broken, ...via };
  const first = unsearchable[0];
  if (first) return { path: first.path, facts: first.facts, reason: 'no-search', unsearchable, ...via };
  const facts = host.lstat(real);
  if (!facts) return { path: real, reason: 'missing', unsearchable, ...via };
  for (const access of want) {
    if (!canAccess(who, facts, access)) {
      const reason = access === 'r' ? 'no-read' : access === 'w' ? 'no-write' : facts.isDirectory ? 'no-search' : 'no-exec';
      return { path: real, facts, reason, unsearchable, ...via };
    }
  }
  return undefined;
}

export interface DirWrite {
  /** The directory the answer was decided on: the target, or its nearest existing ancestor when it is missing. */
  decidedOn: string;
  exists: boolean;
  denial?: Denial;
}

/**
 * Can `who` write into directory `dir` — or, when it does not exist yet,
 * create it (write + search on its nearest existing ancestor)?
 */
export function dirWritable(host: Facts, who: Principal, dir: string): DirWrite {
  let target = realPath(host, dir);
  const exists = host.lstat(target) !== undefined;
  while (host.lstat(target) === undefined && target !== '/') target = path.posix.dirname(target);
  const facts = host.lstat(target);
  if (facts && !facts.isDirectory) {
    return { decidedOn: target, exists, denial: { path: target, facts, reason: 'not-a-directory', unsearchable: [] } };
  }
  const found = denial(host, who, target, ['w', 'x']);
  return found ? { decidedOn: target, exists, denial: found } : { decidedOn: target, exists };
}

/** `owner opencode:opencode, mode 0750` */
export function describeFacts(facts: PathFacts, host: Facts): string {
  const owner = host.userByUid(facts.uid)?.name ?? String(facts.uid);
  const group = host.groupName(facts.gid) ?? String(facts.gid);
  return `owner ${owner}:${group}, mode ${formatMode(facts.mode)}`;
}

/** One sentence on why the path is out of reach, e.g. "/root (owner root:root, mode 0700) is not searchable by www-data". */
export function explainDenial(d: Denial, who: Who, host: Facts): string {
  const why = reasonText(d, who, host);
  return d.via === undefined ? why : `${why} (the path resolves to ${d.via})`;
}

function reasonText(d: Denial, who: Who, host: Facts): string {
  const facts = d.facts ? ` (${describeFacts(d.facts, host)})` : '';
  switch (d.reason) {
    case 'missing':
      return `${d.path} does not exist`;
    case 'not-a-directory':
      return `${d.path}${facts} is not a directory`;
    case 'no-search':
      return `${d.path}${facts} is not searchable by ${who.name}`;
    case 'no-read':
      return `${d.path}${facts} is not readable by ${who.name}`;
    case 'no-write':
      return `${d.path}${facts} is not writable by ${who.name}`;
    case 'no-exec':
      return `${d.path}${facts} is not executable by ${who.name}`;
  }
}
