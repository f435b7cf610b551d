/**
 * Phases 1 and 2 of applying a plan (apply.ts): check a target path the way
 * the kernel will resolve it, and stage new content in a temp file beside it.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { hostError, UserError, withPath } from '../model/errors.js';
import { onHost } from '../lib/paths.js';
import { createDirectory, lstatOrUndefined } from './dirs.js';
import { MAX_READ_BYTES } from '../facts/host.js';
import type { DirectoryChange } from '../model/plan.js';
import { type ApplyOptions, type Staged } from './apply-types.js';

/** Our temp files: `.<name>.bridgectl-<12 hex>.tmp`. Anything matching is ours and, under the lock, stale. */
export const TEMP_FILE = /^\..+\.bridgectl-[0-9a-f]{12}\.tmp$/;

// ---------------------------------------------------------------- 1. check

/**
 * The directory below which every path component is bridgectl's layout
 * rather than something the operator named: the site for mu-plugin files
 * (`--site` may itself be a symlink, e.g. Capistrano's `current`), the
 * systemd unit directory, the home holding `Library/LaunchAgents`. Components
 * from --root down to the base are trusted; components below it are checked.
 */
function trustedBase(serverPath: string): string {
  const wp = serverPath.lastIndexOf('/wp-content/');
  if (wp > 0) return serverPath.slice(0, wp);
  const agents = serverPath.lastIndexOf('/Library/LaunchAgents/');
  if (agents > 0) return serverPath.slice(0, agents);
  if (serverPath.startsWith('/etc/systemd/system/')) return '/etc/systemd/system';
  return path.posix.dirname(serverPath);
}

/**
 * Refuse a symlink at `serverPath` itself and at every directory between its
 * trusted base and it (directories only with allowSymlinkedDirs), and
 * anything but a directory where a directory must be.
 */
export function checkPath(root: string, serverPath: string, options: Pick<ApplyOptions, 'allowSymlinkedDirs'>, kind: 'file' | 'directory'): Stats | undefined {
  const base = trustedBase(serverPath);
  const rel = path.posix.relative(base, path.posix.dirname(serverPath));
  let dir = base;
  for (const part of rel === '' ? [] : rel.split('/')) {
    dir = path.posix.join(dir, part);
    const st = lstatOrUndefined(onHost(root, dir));
    if (!st) return undefined; // missing from here down: created by us
    if (st.isSymbolicLink()) {
      if (options.allowSymlinkedDirs && pointsToDirectory(onHost(root, dir))) continue;
      throw new UserError(
        `${dir} is a symlink; bridgectl does not write into ${serverPath} through it`,
        options.allowSymlinkedDirs ? `${dir} does not point to a directory` : `pass --allow-symlinked-dirs if the link is part of your deploy layout (see docs/safety.md)`,
      );
    }
    if (!st.isDirectory()) throw new UserError(`${dir} is not a directory (it is in the way of ${serverPath})`, 'move it aside and run again');
  }
  const st = lstatOrUndefined(onHost(root, serverPath));
  if (st?.isSymbolicLink()) {
    throw new UserError(`${serverPath} is a symlink; bridgectl never writes through a symlink at a managed path`, 'replace the link with a regular file (or remove it) and run again');
  }
  if (st && kind === 'file' && !st.isFile()) {
    throw new UserError(`${serverPath} is a ${st.isDirectory() ? 'directory' : 'special file'}, not a regular file`, 'move it aside and run again');
  }
  return st;
}

function pointsToDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Read a file we are about to replace without following a symlink; its bytes and stat. */
export function readNoFollow(target: string, label: string): { bytes: Buffer; stat: Stats } {
  let fd: number;
  try {
    fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new UserError(`${label} is a symlink; bridgectl never writes through a symlink at a managed path`);
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UserError(`${label} is not a regular file`, 'move it aside and run again');
    // Planned from at most MAX_READ_BYTES (host.ts): a file grown past that since has changed, and is not read whole.
    if (stat.size > MAX_READ_BYTES) throw changedSincePlanned(label, 'grew');
    return { bytes: readFileSync(fd), stat };
  } finally {
    closeSync(fd);
  }
}

/**
 * mkdir -p of a file's directory, 0755 whatever the umask, one component at
 * a time through descriptors (installer/apply/dirs.ts). Existing components were
 * checked by checkPath.
 */
function ensureDirectory(root: string, dir: string, created: string[]): void {
  createDirectory(root, dir, { mode: 0o755, label: serverLabel(root), created });
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

export function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.bridgectl-${tempSuffix()}.tmp`);
}

/**
 * 12 hex digits for a temp name. Uniqueness is what matters, and the
 * exclusive O_NOFOLLOW create enforces it; an unpredictable name would add
 * nothing. Math.random (seeded per process by V8) rather than node:crypto,
 * which costs ~4 ms to load.
 */
function tempSuffix(): string {
  return Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
}

/** Create a new file exclusively (never through a symlink), write it whole, set mode/owner, fsync. Returns its inode. */
export function writeExclusive(file: string, bytes: Buffer, mode: number, owner?: { uid: number; gid: number }): number {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeAll(fd, bytes);
    fchmodSync(fd, mode); // explicit: the umask must not decide what PHP-FPM can read
    if (owner && process.geteuid?.() === 0) fchownSync(fd, owner.uid, owner.gid);
    fsyncSync(fd);
    return fstatSync(fd).ino;
  } catch (err) {
    throw withPath(err, file); // write and fsync name no path: the message must (the temp file reads as its target)
  } finally {
    closeSync(fd);
  }
}

export function stage(s: Staged, root: string, created: string[]): void {
  const { change, target } = s;
  ensureDirectory(root, path.dirname(target), created);
  // An existing file keeps its owner and group; a new one gets change.owner,
  // else whoever runs bridgectl (and the group the kernel gives it).
  const existing = s.current !== undefined ? lstatSync(target) : undefined;
  const owner = change.owner ?? (existing ? { uid: existing.uid, gid: existing.gid } : undefined);
  s.temp = tempName(target);
  try {
    s.tempIno = writeExclusive(s.temp, Buffer.from(change.after ?? '', 'utf8'), change.mode, owner);
  } catch (err) {
    throw hostError(err, 'write', change.path);
  }
}

export function changedSincePlanned(file: string, what: string): UserError {
  return new UserError(
    `${file} ${what} while bridgectl was planning; nothing was written`,
    'another program wrote it without taking the bridgectl lock (see docs/safety.md); run again',
  );
}

export /** How a host path under --root reads in messages: as the server sees it. */
function serverLabel(root: string): (hostPath: string) => string {
  return (hostPath) => (root === '/' ? hostPath : `/${path.relative(root, hostPath)}`);
}

export /**
 * A planned directory (a data dir, telegram's ~/.config, /etc/bridgectl):
 * created as root, often inside a directory the service user controls, so
 * no symlink that user could plant is followed, and owner and mode are set
 * through a descriptor of the directory just made (installer/apply/dirs.ts).
 * Staging a file inside it (the token file in /etc/bridgectl) may have made
 * it already: it then gets its owner and mode the same way.
 */
function makeDirectory(root: string, dir: DirectoryChange, created: string[]): void {
  createDirectory(root, onHost(root, dir.path), {
    mode: 0o755,
    created,
    last: { mode: dir.mode, owner: { uid: dir.uid, gid: dir.gid } },
    strict: true,
    label: serverLabel(root),
  });
}
