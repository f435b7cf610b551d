/**
 * "Can this user do that to this path?", decided from owner, group and mode
 * bits the way the kernel would (no ACLs), so it answers for any user, in a
 * sandbox root, without privileges. Pure.
 */
export interface Principal {
  uid: number;
  /** Primary and supplementary group ids. */
  gids: readonly number[];
}

export interface Ownership {
  uid: number;
  gid: number;
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  isDirectory: boolean;
}

export type Access = 'r' | 'w' | 'x';

const SHIFT = { r: 2, w: 1, x: 0 } as const;

export function canAccess(who: Principal, target: Ownership, want: Access): boolean {
  if (who.uid === 0) {
    // root reads and writes anything; it executes a file only if some x bit is set.
    return want !== 'x' || target.isDirectory || (target.mode & 0o111) !== 0;
  }
  const bit = 1 << SHIFT[want];
  if (who.uid === target.uid) return (target.mode & (bit << 6)) !== 0;
  if (who.gids.includes(target.gid)) return (target.mode & (bit << 3)) !== 0;
  return (target.mode & bit) !== 0;
}

export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** Whether a group or other users may write (mode & 0o022): the one "writable by others" rule. */
export function writableByOthers(mode: number): boolean {
  return (mode & 0o022) !== 0;
}

/** Whether only `owners` can change what is in a directory (or a file): one of them owns it, and nobody else may write it. */
export function onlyOwnersCanWrite(target: { uid: number; mode: number }, owners: readonly number[]): boolean {
  return owners.includes(target.uid) && !writableByOthers(target.mode);
}
