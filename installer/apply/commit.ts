/**
 * Phase 4 of applying a plan (apply.ts): backups, a way back for each
 * existing file, the renames, directory fsyncs, and the rollback when a step fails.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import { errnoWords, IncompleteError, UserError, withPath } from '../model/errors.js';
import { lstatOrUndefined } from './dirs.js';
import type { Plan } from '../model/plan.js';
import { checkPath, makeDirectory, tempName, writeExclusive } from './stage.js';
import { type ApplyOptions, type Staged } from './apply-types.js';

// ---------------------------------------------------------------- 4. commit

/**
 * The commit phase. Everything that can be done before the first rename is:
 * the backups (--backup), and a way back for each existing file (a hard link
 * to it, or a copy where linking is refused). Then the plan's directories
 * are made and the files renamed into place, one at a time. If any step
 * fails, the files already committed are put back (rollbackCommitted): the
 * run then wrote nothing, and says which files it had replaced and put back.
 * If putting back fails too, CommitIncompleteError names every file written
 * and every file not (exit 3, docs/commands.md).
 */
export function commitAll(staged: Staged[], plan: Plan, root: string, options: ApplyOptions, info: (line: string) => void, created: string[]): void {
  const label = (s: Staged): string => s.change.path;
  const backups: { s: Staged; file: string }[] = [];
  try {
    for (const s of staged) {
      if (!options.backup || s.current === undefined || s.change.before === s.change.after) continue;
      try {
        backups.push({ s, file: writeBackup(s.target, s.current, () => options.fault?.('backup', label(s))) });
      } catch (err) {
        throw new UserError(`cannot write the backup of ${label(s)} (${describeFailure(err)}); nothing was written`, `make room or fix ${path.posix.dirname(label(s))}, then run again`);
      }
    }
    for (const s of staged) {
      try {
        keepPrevious(s);
      } catch (err) {
        throw new UserError(`cannot keep the current ${label(s)} aside before replacing it (${describeFailure(err)}); nothing was written`, `make room or fix ${path.posix.dirname(label(s))}, then run again`);
      }
    }
  } catch (err) {
    for (const b of backups) unlinkQuietly(b.file);
    forgetPrevious(staged);
    throw err;
  }

  // A directory is fsynced once its run of renames ends, before the next
  // rename elsewhere (a three-bridge install: two, not six). The plan puts
  // files a channel points at before the channel (engine.ts), so across a
  // crash, too, the channels file is never on disk before what it points
  // at, even on another filesystem; and every rename is durable before
  // apply returns, also when a later commit is refused.
  const unsynced = new DirectorySync();
  let current: Staged | undefined;
  try {
    for (const dir of plan.directories) makeDirectory(root, dir, created);
    for (const s of staged) {
      current = s;
      unsynced.before(path.dirname(s.target));
      unsynced.add(commit(s, root, options));
    }
  } catch (err) {
    unsynced.flush(true);
    const outcome = rollbackCommitted(staged, options);
    forgetPrevious(staged); // what was not committed (what could not be put back is kept as a backup)
    const cause = `${current ? `cannot ${current.change.after === null ? 'remove' : 'replace'} ${label(current)}` : 'cannot create a directory'} (${describeFailure(err)})`;
    if (outcome.failed.length === 0) {
      for (const b of backups) unlinkQuietly(b.file);
      const putBack = outcome.restored.map(label);
      const [was, it] = putBack.length === 1 ? ['was', 'it was'] : ['were', 'they were'];
      throw new UserError(
        `${cause}; nothing was written${putBack.length ? `: ${putBack.join(', ')} ${was} already replaced and ${was} put back as ${it}` : ''}`,
        current ? `find out why ${label(current)} cannot be changed (immutable: lsattr; read-only or full filesystem; permissions), then run again` : err instanceof UserError ? err.hint : undefined,
      );
    }
    throw new CommitIncompleteError(cause, staged, outcome, backups, root);
  }
  unsynced.flush(false);
  forgetPrevious(staged);
  for (const b of backups) info(`backup: ${path.posix.join(path.posix.dirname(b.s.change.path), path.basename(b.file))}${root === '/' ? '' : ` (under --root ${root})`}`);
}


/**
 * Before the first rename: remember the file's mode and owner, and keep its
 * inode under a temp name (a hard link: bytes, mode, owner and mtime all
 * come back with a rename), or a copy where the kernel refuses the link.
 * The name matches TEMP_FILE, so a SIGKILLed run's is removed next time.
 */
export function keepPrevious(s: Staged): void {
  if (s.current === undefined) return;
  const st = lstatSync(s.target);
  s.previous = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (s.change.after !== null && !s.temp) return; // a mode heal: mode and owner are all it changes
  const saved = tempName(s.target);
  try {
    linkSync(s.target, saved);
  } catch {
    writeExclusive(saved, s.current, s.previous.mode, { uid: st.uid, gid: st.gid });
  }
  s.previous.saved = saved;
}

/** Drop what keepPrevious kept (after a commit, or when the commit never started). */
function forgetPrevious(staged: readonly Staged[]): void {
  for (const s of staged) {
    if (s.previous?.saved) unlinkQuietly(s.previous.saved);
    s.previous = undefined;
  }
}

interface RollbackOutcome {
  /** Committed and put back as they were. */
  restored: Staged[];
  /** Committed, and putting them back failed: their new content (or absence) stays. */
  failed: { s: Staged; why: string; kept?: string }[];
}

/** Put back every committed file, last first: its previous inode renamed back, a new file removed, a mode restored. */
function rollbackCommitted(staged: readonly Staged[], options: ApplyOptions): RollbackOutcome {
  const outcome: RollbackOutcome = { restored: [], failed: [] };
  const dirs = new DirectorySync();
  for (const s of [...staged].reverse()) {
    if (!s.committed) continue;
    try {
      options.fault?.('restore', s.change.path);
      if (s.previous?.saved) {
        renameSync(s.previous.saved, s.target);
        s.previous.saved = undefined;
      } else if (s.previous) {
        const fd = openSync(s.target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        try {
          if (process.geteuid?.() === 0) fchownSync(fd, s.previous.uid, s.previous.gid);
          fchmodSync(fd, s.previous.mode);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } else {
        // Did not exist before: remove it, if it is still the file this run made.
        if (lstatSync(s.target).ino !== s.tempIno) throw new Error('it was replaced by someone else meanwhile');
        unlinkSync(s.target);
      }
      dirs.add(path.dirname(s.target));
      outcome.restored.push(s);
    } catch (err) {
      outcome.failed.push({ s, why: describeFailure(err), ...keepAsBackup(s) });
    }
  }
  dirs.flush(true);
  outcome.restored.reverse();
  outcome.failed.reverse();
  return outcome;
}

/** A previous version that could not be put back: under a backup name, which no later run removes. */
function keepAsBackup(s: Staged): { kept?: string } {
  const saved = s.previous?.saved;
  if (!saved) return {};
  s.previous = undefined;
  const name = freeBackupName(s.target);
  try {
    renameSync(saved, name);
    return { kept: name };
  } catch {
    return { kept: saved };
  }
}

/**
 * A commit that failed and could not be fully undone: the message names the
 * files that now hold this run's content and those that do not. Exit 3.
 */
export class CommitIncompleteError extends IncompleteError {
  override name = 'CommitIncompleteError';
  constructor(cause: string, staged: readonly Staged[], outcome: RollbackOutcome, backups: readonly { s: Staged; file: string }[], root: string) {
    const server = (host: string): string => (root === '/' ? host : `/${path.relative(root, host)}`);
    const failed = new Set(outcome.failed.map((f) => f.s));
    const notWritten = staged.filter((s) => !failed.has(s)).map((s) => s.change.path);
    const detail = outcome.failed.map((f) => `${f.s.change.path}: ${f.why}${f.kept ? `; its previous version is ${server(f.kept)}` : ''}`);
    super(
      `${cause}, and putting back what was already written failed: written: ${[...failed].map((s) => s.change.path).join(', ')}; not written (as before): ${notWritten.join(', ') || 'none'} (${detail.join('; ')})`,
      `the files listed as written hold bridgectl's new content${backups.length ? ` (backups: ${backups.map((b) => server(b.file)).join(', ')})` : ''}; fix the cause, then run the same command again to finish, or put the previous versions back by hand`,
    );
  }
}

/** An OS error as `<syscall> failed: <what> (<CODE>)` (model/errors.ts errnoWords), without the host temp-file names Node puts in its message. */
function describeFailure(err: unknown): string {
  if (err instanceof UserError) return err.message;
  const words = errnoWords(err);
  if (words) return `${words.syscall} failed: ${words.text}`;
  return err instanceof Error ? err.message : String(err);
}

/** Rename (or remove, or heal the mode of) one file; returns the directory whose entry changed, to be fsynced by the caller. */
export function commit(s: Staged, root: string, options: ApplyOptions): string | undefined {
  const { change, target } = s;
  const dir = path.dirname(target);
  // Re-check right before touching anything: a directory swapped for a
  // symlink since phase 1 is refused (Node has no renameat, so this narrows
  // the window rather than closing it; see docs/safety.md).
  checkPath(root, change.path, options, 'file');
  if (change.after === null) {
    options.fault?.('unlink', change.path);
    unlinkSync(target);
    s.committed = true;
    return dir;
  }
  if (!s.temp) {
    // Content is right; only mode (and owner) need healing, through a descriptor opened without following links.
    const fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) throw new UserError(`${change.path} is not a regular file`);
      s.committed = true; // from here on the owner or mode may have changed
      options.fault?.('chmod', change.path);
      if (change.owner && process.geteuid?.() === 0) fchownSync(fd, change.owner.uid, change.owner.gid);
      fchmodSync(fd, change.mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return undefined;
  }
  const temp = s.temp;
  if (lstatSync(temp).ino !== s.tempIno) throw new UserError(`${change.path}: the staged temp file was replaced by someone else`);
  options.fault?.('rename', change.path);
  renameSync(temp, target);
  s.temp = undefined;
  s.committed = true;
  return dir;
}

/**
 * `.<name>.<UTC time>.bridgectl-bak` beside the file: a dot file (hidden
 * from a casual listing and from most web-server configs), not ending in
 * .php/.service/.plist so nothing loads it, mode 0600 owned by whoever runs
 * bridgectl, so the web server cannot serve it even where it would serve a
 * dot file. Written like any other file: temp, fsync, rename.
 */
export function backupName(target: string, now = new Date(), n = 0): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join(path.dirname(target), `.${path.basename(target)}.${stamp}${n ? `-${n}` : ''}.bridgectl-bak`);
}

/** A backup name beside `target` that is not taken yet. */
function freeBackupName(target: string): string {
  const now = new Date();
  let name = backupName(target, now);
  for (let n = 1; lstatOrUndefined(name); n++) name = backupName(target, now, n);
  return name;
}

function writeBackup(target: string, bytes: Buffer, fault?: () => void): string {
  const name = freeBackupName(target);
  const temp = tempName(target);
  try {
    fault?.();
    writeExclusive(temp, bytes, 0o600);
    renameSync(temp, name);
  } finally {
    unlinkQuietly(temp);
  }
  return name;
}

export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already renamed or never created
  }
}

/** Directories with renames not yet fsynced, in the order they were renamed in. */
class DirectorySync {
  private readonly pending: string[] = [];

  add(dir: string | undefined): void {
    if (dir !== undefined && !this.pending.includes(dir)) this.pending.push(dir);
  }

  /** Before a rename in `dir`: make every other directory's renames durable first. */
  before(dir: string): void {
    if (this.pending.some((d) => d !== dir)) this.flush(false);
  }

  /**
   * fsync every pending directory. With `quiet` (an error is already on
   * its way), a failing fsync does not replace that error and the others
   * are still tried; otherwise the first failure is thrown after all were
   * tried.
   */
  flush(quiet: boolean): void {
    let first: unknown;
    for (const dir of this.pending.splice(0)) {
      try {
        fsyncDirectory(dir);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined && !quiet) throw first;
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw withPath(err, dir);
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    throw withPath(err, dir);
  } finally {
    closeSync(fd);
  }
}
