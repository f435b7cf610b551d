/**
 * The plan: every file change as data, with before and after, computed
 * before anything is written. Dry-run prints it, apply executes it, --json
 * serializes it. Pure.
 */
import type { Identity } from '../identity/identity.js';

export type FileStatus = 'create' | 'update' | 'unchanged' | 'remove';

export interface FileChange {
  /** The path as the server sees it (not resolved under --root). */
  path: string;
  status: FileStatus;
  before: string | null;
  after: string | null;
  /** Mode the file must end with. */
  mode: number;
  /** Mode on disk now, when the file exists. */
  currentMode?: number;
  /**
   * Owner the file must have. Unset: a new file is owned by whoever runs
   * bridgectl (root on a server) and an existing one keeps its owner.
   */
  owner?: { uid: number; gid: number };
  /**
   * Owner on disk now, for a file whose owner bridgectl enforces
   * (ownedFileChange): shown in the diff when it differs from `owner`.
   */
  currentOwner?: { uid: number; gid: number };
  /** Holds a credential: reports never show its content (before or after). */
  secret?: boolean;
  /**
   * A check apply runs on the written temp file before renaming it into
   * place; a refusal leaves the installed file as it was. 'sudoers': visudo -cf.
   */
  validate?: FileValidation;
}

export type FileValidation = 'sudoers';

/** A directory to create (a bridge's data dir); existing ones are never touched. */
export interface DirectoryChange {
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

export interface Plan {
  changes: FileChange[];
  directories: DirectoryChange[];
  /** Resolved identities, one per bridge touched. */
  identities: Record<string, Identity>;
  /** Disagreements between sources, and other things the operator should read. */
  notes: string[];
  /** Credential values seen while planning: every report redacts them, wherever they appear. */
  secrets?: string[];
}

export function fileChange(
  path: string,
  before: string | null,
  after: string | null,
  mode: number,
  currentMode?: number,
  owner?: { uid: number; gid: number },
  currentOwner?: { uid: number; gid: number },
): FileChange {
  const ownerDrift = owner !== undefined && currentOwner !== undefined && (owner.uid !== currentOwner.uid || owner.gid !== currentOwner.gid);
  let status: FileStatus;
  if (after === null) status = before === null ? 'unchanged' : 'remove';
  else if (before === null) status = 'create';
  else status = before === after && (currentMode === undefined || currentMode === mode) && !ownerDrift ? 'unchanged' : 'update';
  return {
    path,
    status,
    before,
    after,
    mode,
    ...(currentMode === undefined ? {} : { currentMode }),
    ...(owner ? { owner } : {}),
    ...(currentOwner ? { currentOwner } : {}),
  };
}

/**
 * A file whose owner bridgectl enforces (the telegram token file, the sudo
 * hop's files). The one rule for "enforce owner": when this run can chown
 * (`enforceOwner`: bridgectl runs as root), any owner on disk other than
 * `owner` is drift, a change to apply, whoever owns the file now. An
 * unprivileged run (a sandbox) could never repair an owner, so there it is
 * shown but is no change, and a second run still reaches a no-op.
 */
export function ownedFileChange(
  path: string,
  before: string | null,
  after: string | null,
  mode: number,
  current: { mode: number; uid: number; gid: number } | undefined,
  owner: { uid: number; gid: number },
  enforceOwner: boolean,
): FileChange {
  const currentOwner = current ? { uid: current.uid, gid: current.gid } : undefined;
  const change = fileChange(path, before, after, mode, current?.mode, owner, enforceOwner ? currentOwner : undefined);
  return currentOwner ? { ...change, currentOwner } : change;
}

export function hasChanges(plan: Plan): boolean {
  return plan.directories.length > 0 || plan.changes.some((c) => c.status !== 'unchanged');
}
