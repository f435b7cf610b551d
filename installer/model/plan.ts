/**
 * The plan: every file change as data, with before and after, computed
 * before anything is written. Dry-run prints it, apply executes it, --json
 * serializes it. Pure.
 */
import type { Identity } from './identity.js';

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
