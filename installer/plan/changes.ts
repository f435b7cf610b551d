/** Building file changes: the one rule for a change's status, and for an owner bridgectl enforces. Pure. */
import type { FileChange, FileStatus, Plan } from '../model/plan.js';

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
