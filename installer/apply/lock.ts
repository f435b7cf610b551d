/**
 * The host lock: one flock(2) lock per --root, held around plan AND apply of
 * every mutating run that has something to write (under the lock it checks
 * that what its plan read is unchanged, else plans again; a run that would
 * change nothing takes none: cli.ts, safety.ts), so
 * concurrent bridgectl runs (two deploy hooks, a `channel set` during an
 * `upgrade`) serialize their read–modify–write and no block is lost.
 *
 * What is locked is the directory /run/bridgectl itself (flock(2) works on a
 * directory descriptor): tmpfs, never loaded by WordPress or systemd, in no
 * web root, and — unlike a lock *file* — nothing is left behind by a run, so
 * "nothing written" stays literally true. It lives in /run (root-owned 0755)
 * and not in the world-writable /run/lock, where any local user could create
 * /run/lock/bridgectl first and stop every install until the next boot; and
 * it is 0700, so only root can open it, and no other user can take the lock
 * and hold it. A directory there that is not ours, or that others can write,
 * is still refused.
 *
 * Node has no flock binding, so the lock is taken by util-linux flock(1) on a
 * descriptor we hand it: we open the directory, pass the descriptor to
 * `flock -x -w T 3` as its fd 3, and flock(1) locks the shared open file
 * description and exits. A flock lock belongs to the open file description,
 * not to the process that asked for it, so it stays held as long as our own
 * descriptor is open — and the kernel drops it when we close it or die, even
 * by SIGKILL. No stale-lock detection is needed, and any other tool honours
 * the lock with `flock /run/bridgectl <command>`, as root (or flock(2) on a
 * descriptor of that directory). A mkdir or O_EXCL lock would need
 * pid/staleness guessing and would not interoperate with either.
 *
 * While held, `holder` in that directory names the holder (pid, command,
 * start time) so a waiter that times out can say whom it waited for; it is
 * removed on release (a SIGKILLed holder leaves it; its pid is then checked).
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { formatMode, onlyOwnersCanWrite } from '../lib/access.js';
import { UserError } from '../model/errors.js';
import { processRunner } from '../process/run.js';

/** The locked directory, as the server sees it (resolved under --root). */
export const LOCK_DIR = '/run/bridgectl';
/** Only its owner (root on a server) may open it: opening is all flock needs. */
export const LOCK_DIR_MODE = 0o700;
/** Who holds the lock: written while held, removed on release. */
export const HOLDER_FILE = 'holder';
/** Seconds a run waits for another one before giving up. A run takes well under a second. */
export const DEFAULT_LOCK_TIMEOUT = 60;

/** flock(1)'s exit status when -w runs out (chosen with -E so it differs from its other failures). */
const TIMED_OUT = 75;

export interface HeldLock {
  /** The locked directory on disk (under --root). */
  path: string;
  release(): void;
}

export interface LockOptions {
  /** Seconds to wait; 0 = fail at once if held. */
  timeout: number;
  /** What the holder record says we are running. */
  command: string;
  /** The flock(1) binary; tests and odd hosts may point elsewhere. */
  flock?: string;
}

export function lockPath(root: string): string {
  return root === '/' ? LOCK_DIR : path.join(root, LOCK_DIR);
}

export function acquireLock(root: string, options: LockOptions): HeldLock {
  const dir = lockPath(root);
  const holder = path.join(dir, HOLDER_FILE);
  const fd = openLockDir(dir);
  try {
    const timeout = Number.isFinite(options.timeout) && options.timeout > 0 ? options.timeout : 0;
    const args = timeout > 0 ? ['-x', '-w', String(timeout), '-E', String(TIMED_OUT), '3'] : ['-x', '-n', '-E', String(TIMED_OUT), '3'];
    const r = processRunner.runSync(options.flock ?? 'flock', args, { fd3: fd });
    if (r.error !== undefined) {
      const notInstalled = r.error === 'ENOENT';
      throw new UserError(
        `cannot take the lock ${dir}: ${notInstalled ? 'flock(1) is not installed' : (r.errorMessage ?? r.error)}`,
        notInstalled ? 'install util-linux (Debian: apt-get install util-linux; macOS: brew install flock)' : undefined,
      );
    }
    if (r.status === TIMED_OUT) {
      throw new UserError(
        `timed out after ${timeout} s waiting for the lock ${dir}, held by ${describeHolder(holder)}`,
        'wait for that run to finish (or find out why it hangs), then run again; --lock-timeout SECONDS waits longer',
      );
    }
    if (r.status !== 0) {
      throw new UserError(`cannot take the lock ${dir}: flock exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    }
    recordHolder(holder, options.command);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let held = true;
  return {
    path: dir,
    release() {
      if (!held) return;
      held = false;
      try {
        unlinkSync(holder); // a later waiter must not blame us
      } catch {
        // already gone
      } finally {
        closeSync(fd); // last descriptor of the open file description: the kernel drops the lock
      }
    },
  };
}

/** Run `work` under the lock; the lock is released however `work` ends. */
export async function withLock<T>(root: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const lock = acquireLock(root, options);
  try {
    return await work();
  } finally {
    lock.release();
  }
}

/** Create (0700) or open our lock directory, refusing a symlink, one that is not ours, or one in or under a directory others can write. */
function openLockDir(dir: string): number {
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  const me = process.geteuid?.() ?? 0;
  const above = lstatSync(parent);
  if (!above.isDirectory() || !onlyOwnersCanWrite(above, [me, 0])) {
    throw new UserError(
      `the lock directory's parent ${parent} is writable by others or not root's (owner uid ${above.uid}, mode ${formatMode(above.mode)}); another user could create or replace the lock`,
      `chown root ${parent} && chmod go-w ${parent}`,
    );
  }
  try {
    mkdirSync(dir, { mode: LOCK_DIR_MODE });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UserError(`cannot create the lock directory ${dir} (${code}): only root can create it in ${parent}`, 'run bridgectl as root (or pass --root for a sandbox tree)');
    }
    if (code !== 'EEXIST') throw err;
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      throw new UserError(`lock directory ${dir} is not a directory (a symlink or a file was planted there)`, `remove it; bridgectl recreates it`);
    }
    throw err;
  }
  const st = fstatSync(fd);
  if (!onlyOwnersCanWrite(st, [me, 0])) {
    closeSync(fd);
    throw new UserError(
      `lock directory ${dir} is writable by others or not ours (owner uid ${st.uid}, mode ${formatMode(st.mode)}); another user could hijack the lock`,
      `remove it (bridgectl recreates it ${formatMode(LOCK_DIR_MODE)}), or: chown root ${dir} && chmod ${formatMode(LOCK_DIR_MODE)} ${dir}`,
    );
  }
  if (st.uid === me && (st.mode & 0o777) !== LOCK_DIR_MODE) {
    // mkdir's mode went through the umask, or an older run (or a tool) made it 0755: anyone could open it and hold the lock.
    fchmodSync(fd, LOCK_DIR_MODE);
  }
  return fd;
}

function recordHolder(file: string, command: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, `pid=${process.pid} since=${new Date().toISOString()} command=${command}\n`);
  } finally {
    closeSync(fd);
  }
}

/** "pid 123 ('bridgectl install …', since …)", from the holder record, checked against the process table. */
export function describeHolder(file: string): string {
  let text = '';
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    // no record: fall through
  }
  const pid = /pid=(\d+)/.exec(text)?.[1];
  const since = /since=(\S+)/.exec(text)?.[1];
  const command = /command=(.*)/.exec(text)?.[1]?.trim();
  if (pid === undefined) return 'a process that did not record itself (another tool honouring the lock?)';
  let alive = true;
  try {
    process.kill(Number(pid), 0);
  } catch (err) {
    alive = (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const what = [command ? `'${command}'` : undefined, since ? `since ${since}` : undefined].filter(Boolean).join(', ');
  return alive
    ? `pid ${pid}${what ? ` (${what})` : ''}`
    : `a process that did not record itself (the last record names pid ${pid}, which has exited; another tool honouring the lock?)`;
}
