/**
 * The live machine, seen through --root: the one place bridgectl reads it
 * (the one reader a snapshot is gathered from: gather.ts). Pure stages
 * never get this view in production; they get a snapshot's (snapshot.ts).
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { onlyOwnersCanWrite, writableByOthers } from '../lib/access.js';
import { onHost } from '../lib/paths.js';
import { hostError, UserError } from '../model/errors.js';
import { processRunner } from '../process/run.js';
import type { GroupEntry, Facts, PasswdEntry, PathFacts, SudoProbe } from '../model/facts.js';
import { detectSudoVersion } from './sudo.js';
import { fpmPoolUsers } from './web-user.js';

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    out.push({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    out.push({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

function toFacts(st: Stats): PathFacts {
  const kind = st.isSymbolicLink()
    ? 'symlink'
    : st.isDirectory()
      ? 'directory'
      : st.isFile()
        ? 'file'
        : st.isSocket()
          ? 'socket'
          : 'other';
  return { kind, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, isDirectory: st.isDirectory() };
}

/**
 * Strict UTF-8: invalid bytes (overlong forms, surrogates, truncated
 * sequences) are refused, and a byte-order mark stays in the text, so
 * rewriting the file keeps it.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** 1-based line of the first invalid UTF-8 sequence (0x0A never occurs inside a multi-byte sequence, so lines check alone). */
export function firstInvalidUtf8Line(bytes: Buffer): number | undefined {
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    if (nl === -1) return undefined;
    start = nl + 1;
  }
  return undefined;
}

/**
 * The most bridgectl reads of one file: 16 MiB. Its own files are a few KB;
 * a channels file with 10,000 blocks is ~2 MB. A bigger file is refused
 * unread (docs/safety.md, "Reading files"), so a file another user
 * controls cannot make a run allocate gigabytes.
 */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

/** What a non-regular file is, in a message. */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

const myUid = (): number => process.geteuid?.() ?? 0;

/** Whether a directory is in the hands of someone other than root or whoever runs bridgectl (its owner, or anyone who may write it). */
function foreignDirectory(st: Stats): boolean {
  return !onlyOwnersCanWrite(st, [0, myUid()]);
}

/**
 * Read a regular file without letting what sits at the path decide how
 * long that takes or how much it costs (#17 item 2): opened O_NONBLOCK (a
 * FIFO cannot block the open), fstat'ed on the descriptor (what was opened,
 * not what the path named a moment earlier) and refused unless it is a
 * regular file of at most MAX_READ_BYTES, then read to at most that size
 * (a file that grows meanwhile is refused too). With `noFollow` (the
 * directory is another user's) a symlink as the last component is refused,
 * not followed. undefined when the file does not exist.
 */
export function readRegularFile(file: string, serverPath: string, noFollow: string | undefined): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (noFollow !== undefined ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' && noFollow !== undefined && lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new UserError(`${serverPath} is a symlink in ${noFollow}; bridgectl does not follow it there`, `replace the link with the file itself (or remove it) and run again`);
    }
    throw hostError(err, 'read', serverPath);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UserError(`${serverPath} is ${kindOf(st)}, not a regular file; bridgectl reads only regular files`, 'move it aside and run again');
    if (st.size > MAX_READ_BYTES) throw tooBig(serverPath);
    // One byte more than fstat promised: a file that grew since is noticed and read on in chunks.
    const buf = Buffer.allocUnsafe(st.size + 1);
    const length = readInto(fd, buf, serverPath);
    return length < buf.length ? buf.subarray(0, length) : readRest(fd, buf, serverPath);
  } finally {
    closeSync(fd);
  }
}

/** Read into buf until it is full or the file ends; how many bytes it holds. */
function readInto(fd: number, buf: Buffer, serverPath: string): number {
  let length = 0;
  while (length < buf.length) {
    let n: number;
    try {
      n = readSync(fd, buf, length, buf.length - length, null);
    } catch (err) {
      throw hostError(err, 'read', serverPath);
    }
    if (n === 0) break;
    length += n;
  }
  return length;
}

function readRest(fd: number, head: Buffer, serverPath: string): Buffer {
  const chunks = [head];
  let total = head.length;
  for (;;) {
    if (total > MAX_READ_BYTES) throw tooBig(serverPath);
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const n = readInto(fd, chunk, serverPath);
    if (n === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
}

function tooBig(serverPath: string): UserError {
  return new UserError(
    `${serverPath} is larger than ${MAX_READ_BYTES / (1024 * 1024)} MiB; bridgectl does not read files that big`,
    'check what wrote it; move it aside and run again',
  );
}

/** A host directory as the server sees it under --root; undefined when it lies outside. */
export function serverPathOf(root: string, hostDir: string): string | undefined {
  const relative = path.relative(path.resolve(root), path.resolve(hostDir));
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return path.posix.join('/', relative.split(path.sep).join('/'));
}

/** The real machine, seen through --root. */
export function nodeHost(root: string, env: Readonly<Record<string, string | undefined>>, workdir: string = process.cwd()): Facts {
  const cwd = serverPathOf(root, workdir);
  let passwd: PasswdEntry[] | undefined;
  let groups: GroupEntry[] | undefined;
  // On the live system ask NSS (getent) so LDAP/sssd users resolve; in a
  // sandbox root read its files.
  const database = (name: 'passwd' | 'group'): string => {
    if (root === '/') {
      const r = processRunner.runSync('getent', [name]);
      if (r.status === 0) return r.stdout;
    }
    return readText(`/etc/${name}`) ?? '';
  };
  const allUsers = (): PasswdEntry[] => (passwd ??= parsePasswd(database('passwd')));
  const allGroups = (): GroupEntry[] => (groups ??= parseGroup(database('group')));

  function readText(serverPath: string): string | undefined {
    const file = onHost(root, serverPath);
    // Most paths a plan looks at are absent (other init systems' files, the
    // sudo hop's, a token file): a stat that returns undefined for a
    // missing file costs less than the ENOENT exception of a read (~30 µs
    // each, dozens per plan). Any other answer goes on to the read, whose
    // result or error is exactly what it was.
    try {
      if (statSync(file, { throwIfNoEntry: false }) === undefined) return undefined;
    } catch {
      // ENOTDIR, EACCES…: the read below reports it as it always did
    }
    const bytes = readRegularFile(file, serverPath, foreignParent(serverPath));
    if (bytes === undefined) return undefined;
    try {
      return utf8.decode(bytes);
    } catch {
      const line = firstInvalidUtf8Line(bytes);
      throw new UserError(`${serverPath}:${line ?? '?'}: line ${line ?? '?'} is not valid UTF-8; bridgectl will not rewrite this file`, 'fix that line (or move the file aside) and run again');
    }
  }

  // Directory verdicts, asked once per directory per run (a plan reads several files in each).
  const parents = new Map<string, string | undefined>();
  /** When the file's directory is another user's: who, for the message (the last component is then not followed). */
  function foreignParent(serverPath: string): string | undefined {
    const dir = path.posix.dirname(serverPath);
    if (parents.has(dir)) return parents.get(dir);
    checkLinkedDirectories(dir);
    let verdict: string | undefined;
    try {
      const st = statSync(onHost(root, dir));
      if (foreignDirectory(st)) {
        verdict = writableByOthers(st.mode) ? `${dir}, which others can write (mode 0${(st.mode & 0o7777).toString(8)})` : `${dir}, which uid ${st.uid} owns`;
      }
    } catch {
      verdict = `${dir}`; // unreadable: do not follow links there
    }
    parents.set(dir, verdict);
    return verdict;
  }

  /**
   * A symlinked directory on the way, in a directory another user controls,
   * must lead to a directory that user owns (a deploy user's `current ->
   * releases/N`): else that user could point root's read at any directory,
   * e.g. ~/.config/opencode-telegram-bot -> /root/secrets (#17 item 2).
   */
  function checkLinkedDirectories(dir: string): void {
    let parent = '/';
    for (const part of dir.split('/').filter(Boolean)) {
      const here = path.posix.join(parent, part);
      const link = lstatSync(onHost(root, here), { throwIfNoEntry: false });
      if (link === undefined) return;
      if (link.isSymbolicLink()) {
        const holder = statSync(onHost(root, parent));
        const target = statSync(onHost(root, here), { throwIfNoEntry: false });
        // Who may replace the link: the directory's owner, or anyone when others can write it (then the link's owner planted it).
        const controller = (holder.mode & 0o002) !== 0 ? link.uid : holder.uid;
        if (foreignDirectory(holder) && target !== undefined && target.uid !== controller) {
          throw new UserError(
            `${here} is a symlink in ${parent} (which uid ${holder.uid} owns) to a directory uid ${target.uid} owns; bridgectl does not read through it`,
            `replace the link with the directory itself, or make ${parent} root's`,
          );
        }
      }
      parent = here;
    }
  }

  const statWith = (fn: typeof statSync, serverPath: string): PathFacts | undefined => {
    try {
      // throwIfNoEntry: false: a missing path is undefined without an exception (see readText).
      const st = fn(onHost(root, serverPath), { throwIfNoEntry: false });
      return st === undefined ? undefined : toFacts(st);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  };

  const host: Facts = {
    root,
    env,
    platform: process.platform,
    uid: myUid(),
    gid: process.getegid?.() ?? 0,
    ...(cwd !== undefined ? { cwd } : {}),
    sudo: (): SudoProbe => (root === '/' ? { live: true, version: detectSudoVersion() } : { live: false }),
    fpmPools: () => fpmPoolUsers(host),
    groups: () => [...allGroups()],
    user: (name) => allUsers().find((u) => u.name === name),
    userByUid: (uid) => allUsers().find((u) => u.uid === uid),
    usersWithHome: (home) => allUsers().filter((u) => u.home === home),
    users: () => [...allUsers()],
    groupIds: (user) => [user.gid, ...allGroups().filter((g) => g.members.includes(user.name)).map((g) => g.gid)],
    groupName: (gid) => allGroups().find((g) => g.gid === gid)?.name,
    stat: (p) => statWith(statSync, p),
    lstat: (p) => statWith(lstatSync, p),
    readText,
    listDir: (p) => {
      try {
        return readdirSync(onHost(root, p)).sort();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw err;
      }
    },
    readLink: (p) => {
      try {
        return readlinkSync(onHost(root, p));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINVAL' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw err;
      }
    },
    need: () => undefined,
  };
  return host;
}
