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
  existsSync,
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
import type { FileChange, FileValidation, Plan } from './plan.js';
import { findVisudo, spawnRunner, type Runner } from './sudo-probe.js';

/**
 * Checks a written temp file before it is renamed into place. Throws a
 * UserError to refuse it; returns a note when the check could not run.
 */
export type Validator = (tempFile: string, label: string, root: string) => string | undefined;

export interface ApplyOptions {
  /** Replace the validators FileChange.validate names (tests). */
  validators?: Partial<Record<FileValidation, Validator>>;
}

export function applyPlan(plan: Plan, root: string, options: ApplyOptions = {}): FileChange[] {
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
      chmodSync(target, change.mode); // content is right; only heal the mode
      if (change.owner && process.getuid?.() === 0) chownSync(target, change.owner.uid, change.owner.gid); // …and the owner
    } else {
      const validator = change.validate ? (options.validators?.[change.validate] ?? VALIDATORS[change.validate]) : undefined;
      const validate = validator
        ? (temp: string): void => {
            const skipped = validator(temp, change.path, root);
            if (skipped) plan.notes.push(skipped);
          }
        : undefined;
      writeFileAtomic(target, change.after, change.mode, change.path, change.owner, validate);
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
  /** Runs on the complete temp file (mode and owner set) before the rename; throw to keep the old file. */
  validate?: (tempFile: string) => void,
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
    validate?.(temp);
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
 * visudo -cf on the temp copy of a sudoers drop-in. The temp file's name
 * starts with '.' and contains '.', so sudo's @includedir never reads it
 * while it sits in /etc/sudoers.d; a refused one is removed and the
 * installed drop-in stays as it was. On the live host a missing visudo is a
 * refusal (nothing unchecked goes into /etc/sudoers.d); under a sandbox
 * --root it is a note.
 */
export function visudoValidator(
  run: Runner = spawnRunner,
  locate: () => string | undefined = () => findVisudo(undefined, existsSync, process.env.PATH),
): Validator {
  return (temp, label, root) => {
    const visudo = locate();
    if (!visudo) {
      if (root !== '/') return `${label}: not checked with visudo -cf (visudo is not installed here)`;
      throw new UserError(`${label}: visudo is not installed, so the drop-in cannot be checked; nothing was written to it`, 'install sudo first (apt-get install sudo)');
    }
    const r = run(visudo, ['-c', '-f', temp]);
    if (r.status === 0) return undefined;
    const why = `${r.stderr}${r.stdout}`.replaceAll(temp, label).trim() || (r.error ?? `exit status ${r.status}`);
    throw new UserError(`${label}: visudo -cf refused the new drop-in, so it was not installed (any installed one is unchanged): ${why}`, 'this is a bridgectl bug; please report it with the output of --dry-run');
  };
}

const VALIDATORS: Record<FileValidation, Validator> = {
  sudoers: visudoValidator(),
};

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
