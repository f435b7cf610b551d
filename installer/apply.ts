/**
 * Executes a plan. The only module that writes managed files.
 *
 * Every write is: temp file in the same directory, created exclusively
 * under a random name that does not end in .php (mu-plugins loads every
 * *.php), written, chmod'ed, fsynced, renamed over the target, and the
 * directory fsynced — so a crash leaves the old file or the new one, whole.
 */
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
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { onHost } from './paths.js';
import type { FileChange, Plan } from './plan.js';

export function applyPlan(plan: Plan, root: string): FileChange[] {
  const applied: FileChange[] = [];
  for (const change of plan.changes) {
    if (change.status === 'unchanged') continue;
    const target = onHost(root, change.path);
    if (change.after === null) {
      refuseSymlink(target, change.path);
      unlinkSync(target);
      fsyncDirectory(path.dirname(target));
    } else if (change.before === change.after) {
      refuseSymlink(target, change.path);
      chmodSync(target, change.mode); // content is right; only heal the mode
    } else {
      writeFileAtomic(target, change.after, change.mode, change.path);
    }
    applied.push(change);
  }
  return applied;
}

export function writeFileAtomic(target: string, content: string, mode: number, label = target): void {
  const dir = path.dirname(target);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const existing = refuseSymlink(target, label);
  const temp = path.join(dir, `.${path.basename(target)}.bridgectl-${tempSuffix()}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, content);
      fchmodSync(fd, mode); // explicit: the umask must not decide what PHP-FPM can read
      if (existing && process.getuid?.() === 0) fchownSync(fd, existing.uid, existing.gid);
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

/**
 * 12 hex digits for a temp name. Uniqueness is what matters, and 'wx'
 * (O_CREAT|O_EXCL, which also refuses an existing symlink) enforces it; an
 * unpredictable name would add nothing. Math.random, seeded per process by
 * V8 from the OS, rather than node:crypto, which costs ~4 ms to load.
 */
function tempSuffix(): string {
  return Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
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
