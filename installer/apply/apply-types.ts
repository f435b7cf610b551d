/** What applying a plan takes and gives (apply.ts, stage.ts, commit.ts). */
import type { FileChange, FileValidation } from '../model/plan.js';
import { type Env, type NewContent, type Validation } from './validate.js';

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
  /** The checks of the new contents, started before the lock (apply.ts startVerify). */
  verify?: EarlyVerify;
}

/** The checks of these contents, running (apply.ts startVerify). */
export interface EarlyVerify {
  contents: NewContent[];
  verdicts: Promise<Validation[]>;
}

/**
 * A check for one kind of file (FileChange.validate), run on the staged temp
 * file. Throws a UserError to refuse it; returns a note when it could not run.
 */
export type Validator = (tempFile: string, label: string, root: string) => string | undefined;

export interface Staged {
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

/** One step of the commit phase, for fault injection (ApplyOptions.fault). */
export type CommitStep = 'backup' | 'rename' | 'unlink' | 'chmod' | 'restore';
