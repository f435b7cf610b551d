/**
 * Executes a plan. The only module that writes managed files. Callers hold
 * the host lock (installer/apply/lock.ts) around planning and applying.
 *
 * Applying runs in phases, so that a refusal anywhere leaves every file as
 * it was:
 *
 *  1. check   every path: no symlink at the file or (unless allowed) at a
 *             directory between the trusted base and the file; the file is a
 *             regular file; its bytes are still the ones the plan was
 *             computed from (a writer that ignores the lock is detected).
 *  2. stage   each new content into a temp file in the target's directory:
 *             created exclusively (O_EXCL|O_NOFOLLOW) under a random name
 *             that ends in `.tmp` (mu-plugins loads every *.php, systemd
 *             every *.service), written, chmod'ed, chown'ed, fsynced.
 *  3. verify  each staged file (php -l, systemd-analyze verify: one run for
 *             all units).
 *  4. commit  first every backup (on request) and a way back for each
 *             existing file (a hard link, else a copy); then rename over
 *             the targets; a directory is fsynced when its run of renames
 *             ends, before any rename elsewhere. A failed step puts the
 *             committed files back (exit 1, nothing written) or, if that
 *             fails too, names what was written (exit 3): commitAll. A
 *             crash leaves the old file or the new one, whole; at worst a
 *             stale `.<name>.bridgectl-<hex>.tmp`, which the next run removes.
 *
 * A refused or rolled-back run also removes the directories it created.
 */
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  rmdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { errnoWords, hostError, IncompleteError, UserError, withPath } from '../model/errors.js';
import { onHost } from '../lib/paths.js';
import { checkDirectoryPath, createDirectory, lstatOrUndefined } from './dirs.js';
import { MAX_READ_BYTES } from '../facts/host.js';
import type { DirectoryChange, FileChange, FileValidation, Plan } from '../model/plan.js';
import { findVisudo, VISUDO_PATHS } from '../lib/sudo-paths.js';
import type { Runner } from '../model/process.js';
import { processRunner } from '../process/run.js';
import { validateAllStaged, validateStaged, type Env, type Validation } from './validate.js';

export interface ApplyOptions {
  /** Keep the previous version of each changed file beside it (see backupName). */
  backup?: boolean;
  /** Accept symlinked directories below the trusted base (never a symlinked file). */
  allowSymlinkedDirs?: boolean;
  /** Informational lines (backups made, stale temp files removed). */
  info?: (line: string) => void;
  /** Warnings that did not stop the write (validation findings). */
  warn?: (line: string) => void;
  /** Environment for the validators (BRIDGECTL_PHP…); default process.env. */
  env?: Env;
  /** Replace the validators FileChange.validate names (tests). */
  validators?: Partial<Record<FileValidation, Validator>>;
  /** Tests: called before each commit step on a file (its server path); throw to inject a failure there. */
  fault?: (step: CommitStep, serverPath: string) => void;
}

/**
 * A check for one kind of file (FileChange.validate), run on the staged temp
 * file. Throws a UserError to refuse it; returns a note when it could not run.
 */
export type Validator = (tempFile: string, label: string, root: string) => string | undefined;

/** Our temp files: `.<name>.bridgectl-<12 hex>.tmp`. Anything matching is ours and, under the lock, stale. */
const TEMP_FILE = /^\..+\.bridgectl-[0-9a-f]{12}\.tmp$/;

interface Staged {
  change: FileChange;
  target: string;
  /** Bytes on disk when checked; undefined when the file does not exist. */
  current?: Buffer;
  temp?: string;
  tempIno?: number;
  /** The file as it was, kept until the commit is done (keepPrevious). */
  previous?: { mode: number; uid: number; gid: number; saved?: string };
  /** Renamed, removed or chmodded into its new state: put back if a later step fails. */
  committed?: boolean;
}

/** What applyPlan did: the changes it wrote, and notes for the report (a validator that could not run). */
export interface Applied {
  applied: FileChange[];
  notes: string[];
}

export function applyPlan(plan: Plan, root: string, options: ApplyOptions = {}): Applied {
  const notes: string[] = [];
  const info = options.info ?? ((): void => undefined);
  const warn = options.warn ?? ((): void => undefined);
  const pending = plan.changes.filter((c) => c.status !== 'unchanged');

  // 1. check — nothing is written before every path has passed.
  const staged: Staged[] = pending.map((change) => checkTarget(change, root, options));
  for (const dir of plan.directories) {
    checkPath(root, dir.path, options, 'directory');
    checkDirectoryPath(root, onHost(root, dir.path), { mode: 0o755, strict: true, label: serverLabel(root) });
  }
  removeStaleTemps(plan.changes, root, options, info);

  /** Directories this run created (host paths, parents first): removed again when the run is refused or rolled back. */
  const created: string[] = [];
  try {
    // 2. stage
    for (const s of staged) {
      if (s.change.after !== null && s.change.before !== s.change.after) stage(s, root, created);
    }
    // 3. verify: every staged file checked in one batch (one systemd-analyze
    // for all units), the results then taken in plan order as before.
    const env = options.env ?? process.env;
    const toVerify = staged.filter((s): s is Staged & { temp: string } => s.temp !== undefined && s.change.after !== null);
    const results = validateAllStaged(
      toVerify.map((s) => ({ serverPath: s.change.path, file: s.temp, content: s.change.after ?? '' })),
      root,
      env,
    );
    for (const [i, s] of toVerify.entries()) {
      if (s.change.validate) {
        const validator = options.validators?.[s.change.validate] ?? VALIDATORS[s.change.validate];
        const skipped = validator(s.temp, s.change.path, root);
        if (skipped) notes.push(skipped);
      }
      const result = results[i] as Validation;
      for (const w of result.warnings) warn(w);
      if (result.error) {
        // Whose fault? If the file on disk fails the same check, the operator's own text outside our blocks does.
        const already = s.change.before !== null && validateStaged(s.change.path, s.target, s.change.before, root, env).error !== undefined;
        throw new UserError(
          `${result.error}; ${s.change.path} was left unchanged`,
          already
            ? `nothing was written; the file on disk already fails this check, so the problem is outside bridgectl's blocks: fix ${s.change.path} by hand, then run again`
            : `nothing was written; the new content is bridgectl's template filled with the values passed in: check those (--binary, --site, user names, a channel's --arg/--env) against the message and run again`,
        );
      }
    }
    // 4. commit (backups first, then every rename; undone on failure: commitAll)
    commitAll(staged, plan, root, options, info, created);
  } catch (err) {
    // Refused or rolled back: nothing of this run may stay behind, not even an empty directory.
    for (const s of staged) if (s.temp) unlinkQuietly(s.temp);
    removeCreatedDirectories(created);
    throw err;
  } finally {
    for (const s of staged) if (s.temp) unlinkQuietly(s.temp);
  }
  return { applied: pending, notes };
}

// ---------------------------------------------------------------- 1. check

/**
 * The directory below which every path component is bridgectl's layout
 * rather than something the operator named: the site for mu-plugin files
 * (`--site` may itself be a symlink, e.g. Capistrano's `current`), the
 * systemd unit directory, the home holding `Library/LaunchAgents`. Components
 * from --root down to the base are trusted; components below it are checked.
 */
export function trustedBase(serverPath: string): string {
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
function readNoFollow(target: string, label: string): { bytes: Buffer; stat: Stats } {
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

function checkTarget(change: FileChange, root: string, options: ApplyOptions): Staged {
  const target = onHost(root, change.path);
  const st = checkPath(root, change.path, options, 'file');
  const staged: Staged = { change, target };
  if (change.before === null) {
    if (st) throw changedSincePlanned(change.path, 'appeared');
    return staged;
  }
  if (!st) throw changedSincePlanned(change.path, 'disappeared');
  const { bytes } = readNoFollow(target, change.path);
  if (!bytes.equals(Buffer.from(change.before, 'utf8'))) throw changedSincePlanned(change.path, 'changed');
  staged.current = bytes;
  return staged;
}

function changedSincePlanned(file: string, what: string): UserError {
  return new UserError(
    `${file} ${what} while bridgectl was planning; nothing was written`,
    'another program wrote it without taking the bridgectl lock (see docs/safety.md); run again',
  );
}

/** Remove temp files an interrupted run left (we hold the lock, so no live run owns them). */
function removeStaleTemps(changes: readonly FileChange[], root: string, options: ApplyOptions, info: (line: string) => void): void {
  const dirs = new Set(changes.map((c) => path.posix.dirname(c.path)));
  for (const dir of dirs) {
    try {
      checkPath(root, path.posix.join(dir, '.probe'), options, 'file'); // never clean up through a refused symlink
    } catch {
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(onHost(root, dir));
    } catch {
      continue; // missing or unreadable: nothing of ours there
    }
    for (const name of names) {
      if (!TEMP_FILE.test(name)) continue;
      const file = onHost(root, path.posix.join(dir, name));
      const st = lstatOrUndefined(file);
      if (!st || !(st.isFile() || st.isSymbolicLink())) continue;
      unlinkQuietly(file);
      info(`removed ${path.posix.join(dir, name)}, left by an interrupted run`);
    }
  }
}

// ---------------------------------------------------------------- 2. stage

/** How a host path under --root reads in messages: as the server sees it. */
function serverLabel(root: string): (hostPath: string) => string {
  return (hostPath) => (root === '/' ? hostPath : `/${path.relative(root, hostPath)}`);
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

function tempName(target: string): string {
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
function writeExclusive(file: string, bytes: Buffer, mode: number, owner?: { uid: number; gid: number }): number {
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

function stage(s: Staged, root: string, created: string[]): void {
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
function commitAll(staged: Staged[], plan: Plan, root: string, options: ApplyOptions, info: (line: string) => void, created: string[]): void {
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

/** One step of the commit phase, for fault injection (ApplyOptions.fault). */
export type CommitStep = 'backup' | 'rename' | 'unlink' | 'chmod' | 'restore';

/**
 * Before the first rename: remember the file's mode and owner, and keep its
 * inode under a temp name (a hard link: bytes, mode, owner and mtime all
 * come back with a rename), or a copy where the kernel refuses the link.
 * The name matches TEMP_FILE, so a SIGKILLed run's is removed next time.
 */
function keepPrevious(s: Staged): void {
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
function commit(s: Staged, root: string, options: ApplyOptions): string | undefined {
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

/**
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

// ---------------------------------------------------------------- validators

/**
 * visudo -cf on the staged copy of a sudoers drop-in. The temp file's name
 * starts with '.' and contains '.', so sudo's @includedir never reads it
 * while it sits in /etc/sudoers.d; a refused one is removed and the
 * installed drop-in stays as it was. On the live host a missing visudo is a
 * refusal (nothing unchecked goes into /etc/sudoers.d); under a sandbox
 * --root it is a note. visudo is looked up at the fixed system paths only
 * (VISUDO_PATHS, as doctor's probe), never on $PATH.
 */
export function visudoValidator(
  run: Runner = processRunner,
  locate: () => string | undefined = () => findVisudo(VISUDO_PATHS, existsSync),
): Validator {
  return (temp, label, root) => {
    const visudo = locate();
    if (!visudo) {
      if (root !== '/') return `${label}: not checked with visudo -cf (visudo is not installed here)`;
      throw new UserError(`${label}: visudo is not installed, so the drop-in cannot be checked; nothing was written to it`, 'install sudo first (apt-get install sudo)');
    }
    const r = run.runSync(visudo, ['-c', '-f', temp], { input: '', timeout: 30_000 });
    if (r.status === 0) return undefined;
    if (r.error !== undefined && r.status === null) {
      // visudo did not run at all (not executable, a broken binary): the host's problem, not the drop-in's.
      throw new UserError(`${visudo} could not be run (${r.error}), so ${label} cannot be checked; nothing was written to it`, `repair sudo (apt-get install --reinstall sudo), then run again`);
    }
    const why = `${r.stderr}${r.stdout}`.replaceAll(temp, label).trim() || (r.error ?? `exit status ${r.status}`);
    throw new UserError(`${label}: visudo -cf refused the new drop-in, so it was not installed (any installed one is unchanged): ${why}`, 'check the user names passed in (--web-user, --service-user); if they are ordinary, please report this with the output of --dry-run');
  };
}

const VALIDATORS: Record<FileValidation, Validator> = {
  sudoers: visudoValidator(),
};

// ---------------------------------------------------------------- helpers

/** rmdir what this run created, deepest first, where it is still empty (a refused run leaves no empty directory). */
function removeCreatedDirectories(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (something else, or a file this run could not put back, is in it), or already gone
    }
  }
}

function unlinkQuietly(file: string): void {
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
