/**
 * Executes a plan. The only module that writes managed files.
 *
 * Every write is: temp file in the same directory, created exclusively
 * under a random name that does not end in .php (mu-plugins loads every
 * *.php), written, chmod'ed, fsynced, renamed over the target, and the
 * directory fsynced — so a crash leaves the old file or the new one, whole.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  chmodSync,
  chownSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { onHost } from './paths.js';
import type { FileChange, Plan } from './plan.js';

export function applyPlan(plan: Plan, root: string): FileChange[] {
  const applied: FileChange[] = [];
  for (const dir of plan.directories) {
    const target = onHost(root, dir.path);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    mkdirSync(target, { mode: dir.mode });
    chmodSync(target, dir.mode); // mkdir's mode is filtered by the umask
    if (process.getuid?.() === 0) chownSync(target, dir.uid, dir.gid);
  }
  for (const change of plan.changes) {
    if (change.status === 'unchanged') continue;
    const target = onHost(root, change.path);
    if (change.after === null) {
      refuseSymlink(target, change.path);
      unlinkSync(target);
      fsyncDirectory(path.dirname(target));
    } else if (change.before === change.after) {
      refuseSymlink(target, change.path);
      // Content is right; only heal the owner and mode.
      if (change.owner && process.getuid?.() === 0) chownSync(target, change.owner.uid, change.owner.gid);
      chmodSync(target, change.mode);
    } else {
      writeFileAtomic(target, change.after, change.mode, change.path, change.owner);
    }
    applied.push(change);
  }
  return applied;
}

export function writeFileAtomic(
  target: string,
  content: string,
  mode: number,
  label = target,
  owner?: { uid: number; gid: number },
): void {
  const dir = path.dirname(target);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const existing = refuseSymlink(target, label);
  const temp = path.join(dir, `.${path.basename(target)}.bridgectl-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, content);
      fchmodSync(fd, mode); // explicit: the umask must not decide what PHP-FPM can read
      const wanted = owner ?? existing;
      if (wanted && process.getuid?.() === 0) fchownSync(fd, wanted.uid, wanted.gid);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or never created
    }
    throw err;
  }
  fsyncDirectory(dir);
}

function refuseSymlink(target: string, label: string): { uid: number; gid: number } | undefined {
  try {
    const st = lstatSync(target);
    if (st.isSymbolicLink()) {
      throw new UserError(`${label} is a symlink; bridgectl does not write through symlinks`, 'replace the link with a regular file (or remove it) and run again');
    }
    return { uid: st.uid, gid: st.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
