/**
 * doctor's fix lines for "this user cannot get there / write that": minimal
 * and complete in one pass. Access goes to the web user's group (chgrp +
 * g+…), never to every local user (`chmod o+x`), and a system directory
 * (/, /home, /var, /usr, …) is never chmod'ed or chown'ed: the fix moves
 * what sits under it instead. Every line is a runnable shell command. Pure.
 */
import path from 'node:path';
import type { Facts, PathFacts } from '../model/facts.js';
import type { Principal } from '../lib/access.js';
import { canAccess } from '../lib/access.js';
import type { Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';

/** Directories whose mode and owner the whole system depends on. */
const SYSTEM_DIRS = new Set([
  '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp',
  '/usr', '/usr/bin', '/usr/lib', '/usr/local', '/usr/local/bin', '/usr/local/lib', '/usr/local/sbin', '/usr/sbin', '/usr/share',
  '/var', '/var/lib', '/var/www', '/var/log', '/var/run', '/var/tmp', '/Users', '/Library', '/System', '/private',
]);

export function isSystemDir(serverPath: string): boolean {
  return SYSTEM_DIRS.has(path.posix.normalize(serverPath));
}

/** The system directories among these (a fix must not touch them). */
export function systemDirsIn(dirs: readonly { path: string }[]): string[] {
  return dirs.map((d) => d.path).filter(isSystemDir);
}

/** Search (x) on each directory for `who`'s group: chmod g+x where the group already is its own, else chgrp first. */
export function searchGrants(dirs: readonly { path: string; facts: PathFacts }[], who: Who): string[] {
  return dirs.map(({ path: p, facts }) => {
    const q = shellQuote(p);
    return who.principal.gids.includes(facts.gid) ? `chmod g+x ${q}` : `chgrp ${shellQuote(who.group)} ${q} && chmod g+x ${q}`;
  });
}

/** Read-write for `who`'s group on one directory (its working directory): no recursion. */
export function dirGrant(dir: string, facts: PathFacts | undefined, who: Who): string {
  const q = shellQuote(dir);
  return facts && who.principal.gids.includes(facts.gid) ? `chmod g+rwx ${q}` : `chgrp ${shellQuote(who.group)} ${q} && chmod g+rwx ${q}`;
}

/**
 * Read-write for `who`'s group on a whole tree in one go — the directory,
 * every file and every socket in it — with setgid directories so what the
 * service creates later stays in the group.
 */
export function treeGrant(dir: string, who: Who): string {
  const q = shellQuote(dir);
  return `chgrp -R ${shellQuote(who.group)} ${q} && chmod -R g+rwX ${q} && find ${q} -type d -exec chmod g+s {} +`;
}

/** Entries under `dir` that `who` cannot use as the CLI does: read+write files and sockets, write+search directories. Symlinks are not followed. */
export function lockedEntries(host: Facts, who: Principal, dir: string, limit = 5000): string[] {
  const out: string[] = [];
  const queue = [dir];
  let seen = 0;
  while (queue.length && seen < limit) {
    const current = queue.shift() as string;
    const paths = (host.listDir(current) ?? []).slice(0, limit - seen).map((name) => path.posix.join(current, name));
    seen += paths.length;
    // A directory's entries in one gather round, not one round each.
    host.need(paths.map((p) => ({ kind: 'lstat', path: p })));
    for (const p of paths) {
      const facts = host.lstat(p);
      if (!facts || facts.kind === 'symlink' || facts.kind === 'other') continue;
      if (facts.kind === 'directory') {
        if (!canAccess(who, facts, 'w') || !canAccess(who, facts, 'x')) out.push(p);
        else queue.push(p);
      } else if (facts.kind === 'socket') {
        if (!canAccess(who, facts, 'w')) out.push(p);
      } else if (!canAccess(who, facts, 'r') || !canAccess(who, facts, 'w')) {
        out.push(p);
      }
    }
  }
  return out;
}

/** "a, b, c, …" naming at most five entries, relative to `dir`. */
export function listSome(paths: readonly string[], dir: string): string {
  const names = paths.slice(0, 5).map((p) => path.posix.relative(dir, p));
  return `${names.join(', ')}${paths.length > 5 ? `, … (${paths.length} in all)` : ''}`;
}
