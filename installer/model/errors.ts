/**
 * Exit codes are part of the interface: deploy scripts branch on them.
 * 0 ok · 1 failure (bad input, damaged file, host problem) · 2 drift (`check`) ·
 * 3 a commit failed and could not be fully undone: some files written, the message names them.
 * (130 and 143 are what a shell reports when SIGINT or SIGTERM kills the
 * process; no code sets them: docs/commands.md, "Exit codes".)
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  drift: 2,
  incomplete: 3,
} as const;

/**
 * An expected failure: the message (and hint) is printed without a stack,
 * and nothing has been written.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    /** What to do about it; printed on its own line. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Bad flags or arguments. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

/** A run that wrote some files and not others, and names both: exit 3 (ExitCode.incomplete). */
export class IncompleteError extends UserError {
  override name = 'IncompleteError';
}

/** A managed file whose structure bridgectl will not touch. */
export class MarkerError extends UserError {
  override name = 'MarkerError';
  constructor(
    readonly detail: string,
    /** 1-based line the problem was found on, when there is one. */
    readonly line?: number,
    hint?: string,
    readonly file?: string,
  ) {
    // A quoted line may hide a no-break space or a U+2028: shown escaped, or the error points at nothing visible.
    super(locate(file, line) + showInvisible(detail), hint);
  }

  /** The same error, naming the file it came from. */
  inFile(file: string): MarkerError {
    return new MarkerError(this.detail, this.line, this.hint, file);
  }
}

function locate(file: string | undefined, line: number | undefined): string {
  if (file !== undefined) return line === undefined ? `${file}: ` : `${file}:${line}: `;
  return line === undefined ? '' : `line ${line}: `;
}

/** A value that cannot be rendered safely into a managed file. */
export class RenderError extends UserError {
  override name = 'RenderError';
}

/** Identity could not be resolved from flags, environment, adoption or defaults. */
export class IdentityError extends UserError {
  override name = 'IdentityError';
}

/**
 * The operating system refused something on a server path (EACCES, ENOSPC,
 * EIO…): the operator's to fix, not a bug. One line naming the path as the
 * server knows it (never a temp file's or a sandbox's host path), keeping
 * the errno code (doctor reads an EACCES as "cannot read").
 */
export class HostError extends UserError {
  override name = 'HostError';
  constructor(
    readonly code: string,
    readonly serverPath: string,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

const ERRNO: Record<string, [what: string, fix?: string]> = {
  EACCES: ['permission denied', 'run bridgectl as root (or as the owner of the file)'],
  EPERM: ['operation not permitted', 'check the file for an immutable flag (lsattr) and that bridgectl runs as root'],
  ENOSPC: ['no space left on the device', 'free some space on that filesystem and run again'],
  EDQUOT: ['disk quota exceeded', 'free some space (or raise the quota) and run again'],
  EROFS: ['read-only filesystem', 'remount the filesystem read-write, or run bridgectl where it is writable'],
  EIO: ['input/output error', 'check the disk (dmesg) before running again'],
  EISDIR: ['it is a directory', 'move the directory aside and run again'],
  ENOTDIR: ['a component of the path is not a directory', 'move that file aside and run again'],
  ELOOP: ['too many symlinks'],
  EMFILE: ['too many open files'],
  ENAMETOOLONG: ['path too long'],
};

/** System calls as words, for a message built from an errno error's syscall. */
const VERBS: Record<string, string> = {
  fsync: 'sync',
  mkdir: 'create the directory',
  rename: 'replace',
  unlink: 'remove',
  scandir: 'list',
  fchmod: 'change the mode of',
  chmod: 'change the mode of',
  fchown: 'change the owner of',
  chown: 'change the owner of',
  lstat: 'look at',
  stat: 'look at',
  fstat: 'look at',
};

/** An errno error (a system call's failure), duck-typed: one from another realm (a test's VM context) is no `instanceof Error` here. */
function asErrno(err: unknown): (Partial<NodeJS.ErrnoException> & { code: string; syscall: string }) | undefined {
  const e = err as Partial<NodeJS.ErrnoException> | null;
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.syscall !== 'string' || err instanceof UserError) return undefined;
  return e as Partial<NodeJS.ErrnoException> & { code: string; syscall: string };
}

/**
 * The one errno → words rule: `<what> (<CODE>)`, what from ERRNO, else the
 * system's own text without the code and the paths Node appends; and the
 * fix ERRNO names. Undefined for anything that is not an errno error.
 */
export function errnoWords(err: unknown): { code: string; syscall: string; text: string; fix?: string } | undefined {
  const e = asErrno(err);
  if (!e) return undefined;
  const [what, fix] = ERRNO[e.code] ?? [String(e.message).replace(/^[A-Z0-9]+: /, '').replace(/,.*$/, '')];
  return { code: e.code, syscall: e.syscall, text: `${what} (${e.code})`, ...(fix !== undefined ? { fix } : {}) };
}

/**
 * An errno error as a HostError: `cannot <verb> <serverPath>: <what> (<CODE>)`.
 * Anything else (a bug) is returned as it was.
 */
export function hostError(err: unknown, verb: string, serverPath: string): unknown {
  const words = errnoWords(err);
  if (!words) return err;
  return new HostError(words.code, serverPath, `cannot ${VERBS[verb] ?? verb} ${serverPath}: ${words.text}`, words.fix);
}

/** Longest stretch of a message without a space that is shown whole (a path, a quoted value). */
export const MAX_SHOWN = 200;

// Characters that do not show as themselves on a terminal: controls, format
// characters (zero-width, BOM, bidi), and every separator but the space
// (no-break space, U+2028…).
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Zs}]/gu;

/** Invisible characters as `\u00a0` escapes (the space stays a space). */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    if (c === ' ') return c;
    const cp = c.codePointAt(0) ?? 0;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A message as one bounded line: invisible characters escaped, and any
 * stretch without a space (a 1 MB home from passwd, a long quoted line)
 * cut to MAX_SHOWN characters with `…`.
 */
export function oneLine(text: string): string {
  return showInvisible(text).replace(new RegExp(`[^ ]{${MAX_SHOWN + 1},}`, 'g'), (run) => `${run.slice(0, MAX_SHOWN)}…`);
}

/** Our temp files (`.<name>.bridgectl-<12 hex>.tmp`, apply.ts), named by the file they stand for. */
const TEMP_NAME = /^\.(.+)\.bridgectl-[0-9a-f]{12}\.tmp$/;

/**
 * A host path as the operator knows it: under --root, the server path;
 * bridgectl's temp file, the file it was to replace.
 */
export function serverPathOf(hostPath: string, root: string): string {
  let p = hostPath;
  if (root !== '/' && (p === root || p.startsWith(`${root}/`))) p = p.slice(root.length) || '/';
  const slash = p.lastIndexOf('/');
  const temp = TEMP_NAME.exec(p.slice(slash + 1));
  return temp ? `${p.slice(0, slash + 1)}${temp[1]}` : p;
}

/** An errno error's path, when the call that failed had only a descriptor (write, fsync): set by the code that knows it. */
export function withPath(err: unknown, hostPath: string): unknown {
  const e = err as Partial<NodeJS.ErrnoException> | null;
  if (typeof e === 'object' && e !== null && typeof e.code === 'string' && !e.path) e.path = hostPath;
  return err;
}

/** One thing a facts snapshot holds (facts/snapshot.ts): a path's answer of one kind, or a machine-wide fact. */
export type FactItem =
  | { kind: 'stat' | 'lstat' | 'text' | 'list' | 'link'; path: string }
  | { kind: 'passwd' | 'group' | 'sudo' | 'fpmPools' };

/**
 * A question a facts snapshot cannot answer. A pure stage never reads: it
 * stops here, and gather (facts/gather.ts) reads exactly this item and runs
 * the stage again. Pure code that catches errors must rethrow this one.
 */
export class MissingFacts extends Error {
  override name = 'MissingFacts';
  /** Every item missing (Facts.need names several at once); `item` is the first. */
  readonly items: readonly FactItem[];
  constructor(
    readonly item: FactItem,
    also: readonly FactItem[] = [],
  ) {
    super(`the facts snapshot does not hold ${[item, ...also].map((i) => ('path' in i ? `${i.kind} ${i.path}` : i.kind)).join(', ')}`);
    this.items = [item, ...also];
  }
}
