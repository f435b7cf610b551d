/**
 * Creating directories, one component at a time, without ever letting a
 * symlink that someone else could plant decide where root's mkdir, chown or
 * chmod lands (docs/safety.md, "Directories bridgectl creates").
 *
 * The danger: bridgectl runs as root and creates directories inside ones
 * that another user controls (telegram's ~/.config/opencode-telegram-bot in
 * the service user's home). `mkdir -p` resolves the whole path on every
 * call, so if that user swaps ~/.config for a link to /etc between two
 * calls, root creates, and then chowns to the user, /etc/opencode-telegram-bot.
 *
 * So each missing component is made like this:
 *   1. The deepest existing directory is opened, and kept open; with
 *      `strict`, no existing component may be a symlink that someone other
 *      than root (or whoever runs bridgectl) could have put there.
 *   2. The component is created (mkdir, not recursive) and opened
 *      O_RDONLY|O_DIRECTORY|O_NOFOLLOW *relative to the parent's open
 *      descriptor*, fstat'ed to be a directory, and only then chown'ed and
 *      chmod'ed through that descriptor. It becomes the parent of the next.
 *
 * Node has no mkdirat/openat. On Linux, `/proc/self/fd/<fd>/<name>` is
 * exactly that: the kernel resolves `/proc/self/fd/<fd>` to the open
 * directory itself, whatever has happened to its path since, so no path
 * component is re-resolved. Where /proc is missing (macOS), the path is used
 * and each step re-verifies, with lstat, that every component from the
 * first one created down is still the directory that was created (same
 * device and inode, not a link), before the mkdir and after the open; a
 * window of a few system calls remains there (docs/safety.md).
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { onlyOwnersCanWrite, writableByOthers } from '../lib/access.js';
import { hostError, UserError } from '../model/errors.js';

export interface DirectoryOwner {
  uid: number;
  gid: number;
}

export interface CreateDirectoryOptions {
  /** Mode of every component created on the way (the umask does not apply). */
  mode: number;
  /** The last component: its mode and owner, applied whether it was created now or already there. */
  last?: { mode: number; owner?: DirectoryOwner };
  /**
   * Refuse an existing component that is a symlink in a directory someone
   * other than root or the invoking user can write (they could point it
   * anywhere). Without it, existing components are the caller's to check
   * (apply.ts checkPath: --site, --allow-symlinked-dirs).
   */
  strict?: boolean;
  /** How a host path reads in messages (the server path, under --root). */
  label?: (hostPath: string) => string;
  /** Each component this call made is appended here (host path), so a refused run can remove it again. */
  created?: string[];
  /** Tests: false takes the path used where /proc is missing. */
  useProc?: boolean;
  /** Tests: called before each component is created (its host path), e.g. to swap its parent for a link. */
  beforeCreate?: (hostPath: string) => void;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;
const NOFOLLOW_DIR_FLAGS = DIR_FLAGS | constants.O_NOFOLLOW;

/** lstat, or undefined when the path (or a parent) does not exist. */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

const myUid = (): number => process.geteuid?.() ?? 0;
const trustedUid = (uid: number): boolean => uid === 0 || uid === myUid();

/**
 * Whether only a trusted user (root, or whoever runs bridgectl) can have
 * put the symlink `link` into `parent`: the directory is theirs and nobody
 * else may write it, or it is sticky (like /tmp) and the link is theirs.
 */
export function linkIsTrusted(parent: Stats, link: Stats): boolean {
  if (onlyOwnersCanWrite(parent, [0, myUid()])) return true;
  return (parent.mode & 0o1000) !== 0 && trustedUid(link.uid);
}

function who(st: Stats): string {
  return writableByOthers(st.mode) ? `others can write (mode 0${(st.mode & 0o7777).toString(8)})` : `uid ${st.uid} owns`;
}

/** The components of `target` below `base`; `target` must be `base` or under it. */
function componentsBelow(base: string, target: string): string[] {
  const rel = path.relative(base, target);
  if (rel === '') return [];
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`internal: ${target} is not under ${base}`);
  return rel.split(path.sep);
}

interface ExistingPart {
  /** The deepest existing component (host path) and its stat (following a trusted link). */
  dir: string;
  stat: Stats;
  /** Components below it, still to be created. */
  missing: string[];
}

/**
 * Walk `target` from `base` (trusted as is: --root, or / on the live host)
 * while components exist. Refuses a non-directory on the way, and with
 * `strict` a symlink someone else could have planted. Creates nothing.
 */
function walkExisting(base: string, target: string, options: CreateDirectoryOptions): ExistingPart {
  const label = options.label ?? ((p: string) => p);
  const parts = componentsBelow(base, target);
  let dir = base;
  let stat = statSync(base);
  for (let i = 0; i < parts.length; i++) {
    const next = path.join(dir, parts[i] as string);
    const st = lstatOrUndefined(next);
    if (!st) return { dir, stat, missing: parts.slice(i) };
    let followed = st;
    if (st.isSymbolicLink()) {
      if (options.strict && !linkIsTrusted(stat, st)) {
        throw new UserError(
          `${label(next)} is a symlink in ${label(dir)}, which ${who(stat)}; bridgectl does not create ${label(target)} through it`,
          `create ${label(target)} yourself as the user who will own it (or replace the link with a real directory), then run again`,
        );
      }
      try {
        followed = statSync(next);
      } catch {
        throw new UserError(`${label(next)} is a dangling symlink; bridgectl does not create ${label(target)} through it`, 'remove the link, then run again');
      }
    }
    if (!followed.isDirectory()) throw new UserError(`${label(next)} is not a directory (it is in the way of ${label(target)})`, 'move it aside and run again');
    dir = next;
    stat = followed;
  }
  return { dir, stat, missing: [] };
}

/** Check, creating nothing, that createDirectory(base, target, options) would not be refused for what exists now. */
export function checkDirectoryPath(base: string, target: string, options: CreateDirectoryOptions): void {
  if (statOrUndefined(base) === undefined) return; // nothing below it exists either
  walkExisting(base, target, options);
}

/** Whether `/proc/self/fd/<fd>` names this very directory (Linux with /proc mounted). */
function procDirectoryOf(fd: number, st: Stats): string | undefined {
  const proc = `/proc/self/fd/${fd}`;
  try {
    const viaProc = statSync(proc);
    return viaProc.dev === st.dev && viaProc.ino === st.ino ? proc : undefined;
  } catch {
    return undefined;
  }
}

const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * mkdir -p `target` (a host path under `base`), safely: see the top of this
 * file. Existing components are left as they are, except that `last`, when
 * given, is applied to the last component whether new or not.
 */
export function createDirectory(base: string, target: string, options: CreateDirectoryOptions): void {
  const label = options.label ?? ((p: string) => p);
  if (statOrUndefined(base) === undefined) {
    // `render --out DIR` into a DIR not made yet: the operator named it, so
    // it is trusted like the directories above it, and made like the rest.
    let anchor = path.dirname(base);
    while (statOrUndefined(anchor) === undefined && anchor !== path.dirname(anchor)) anchor = path.dirname(anchor);
    createDirectory(anchor, base, { mode: options.mode, label });
  }
  const existing = walkExisting(base, target, options);
  const changed = (what: string): UserError =>
    new UserError(
      `${label(what)} changed while bridgectl was creating ${label(target)} (a directory was swapped for a link?); stopped before changing its owner or mode`,
      `check ${label(path.dirname(what))} and who can write it, then run again`,
    );

  let fd = openSync(existing.dir, DIR_FLAGS);
  try {
    if (!sameFile(fstatSync(fd), existing.stat)) throw changed(existing.dir);
    let dir = existing.dir;
    /**
     * Fallback only (no /proc): the directory the walk started from (a
     * trusted link there is followed) and each component created so far
     * must still be what they were.
     */
    const made: { path: string; stat: Stats }[] = [];
    const verifyMade = (): void => {
      const anchor = statOrUndefined(existing.dir);
      if (!anchor || !sameFile(anchor, existing.stat)) throw changed(existing.dir);
      for (const m of made) {
        const now = lstatOrUndefined(m.path);
        if (!now || now.isSymbolicLink() || !sameFile(now, m.stat)) throw changed(m.path);
      }
    };

    existing.missing.forEach((name, i) => {
      const isLast = i === existing.missing.length - 1;
      const child = path.join(dir, name);
      options.beforeCreate?.(child);
      const parentStat = fstatSync(fd);
      const proc = options.useProc === false ? undefined : procDirectoryOf(fd, parentStat);
      const at = proc ? path.join(proc, name) : child;
      if (!proc) verifyMade();
      let created = false;
      try {
        mkdirSync(at, { mode: 0o700 });
        created = true;
        options.created?.push(child);
      } catch (err) {
        // Someone made it meanwhile: fine if it is a real directory, which the open below insists on.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw hostError(err, 'mkdir', label(child)); // never the /proc/self/fd path
      }
      let childFd: number;
      try {
        childFd = openSync(at, NOFOLLOW_DIR_FLAGS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') {
          throw new UserError(`${label(child)} became a symlink or a file while bridgectl was creating it; nothing was created through it`, `check who can write ${label(dir)}, then run again`);
        }
        throw hostError(err, 'open', label(child));
      }
      try {
        const st = fstatSync(childFd);
        if (!st.isDirectory()) throw changed(child);
        if (!proc) verifyMade();
        // Its path, as everyone else will resolve it, still leads here; else stop before chown.
        const viaPath = statOrUndefined(child);
        if (!viaPath || !sameFile(viaPath, st)) throw changed(child);
        const parentNow = statOrUndefined(dir);
        if (!parentNow || !sameFile(parentNow, parentStat)) throw changed(dir);
        const last = isLast ? options.last : undefined;
        // Owner first, then mode: the directory is never open to others under the wrong owner.
        if (last?.owner && myUid() === 0) fchownSync(childFd, last.owner.uid, last.owner.gid);
        if (created || last) fchmodSync(childFd, last ? last.mode : options.mode);
        made.push({ path: child, stat: st });
      } catch (err) {
        closeSync(childFd);
        throw err;
      }
      closeSync(fd);
      fd = childFd;
      dir = child;
    });

    if (existing.missing.length === 0 && options.last) {
      // Already there (staging a file inside it may have made it): owner and
      // mode through a descriptor opened without following a link.
      closeSync(fd);
      fd = -1;
      try {
        fd = openSync(target, NOFOLLOW_DIR_FLAGS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') throw new UserError(`${label(target)} is a symlink; bridgectl does not change the owner or mode of a directory through one`, 'replace the link with a real directory, then run again');
        throw err;
      }
      if (options.last.owner && myUid() === 0) fchownSync(fd, options.last.owner.uid, options.last.owner.gid);
      fchmodSync(fd, options.last.mode);
    }
    // The path everyone else will use still leads to the directory made (or found).
    const now = statOrUndefined(target);
    if (!now || !sameFile(now, fstatSync(fd))) throw changed(target);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
