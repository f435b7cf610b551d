/**
 * What bridgectl knows of the machine: users, groups and paths, as the
 * server sees them, and the few probed facts planning needs. A read-only
 * view: facts/host.ts answers it from the live machine, facts/snapshot.ts
 * from an immutable snapshot (what pure stages see).
 */
import type { FactItem } from './errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface PathFacts {
  kind: 'file' | 'directory' | 'symlink' | 'socket' | 'other';
  uid: number;
  gid: number;
  mode: number;
  isDirectory: boolean;
}

/** `sudo -V` of the live host: asked only with --root / (a sandbox root has no sudo to ask). */
export type SudoProbe = { live: false } | { live: true; version: SudoVersion | undefined };

export interface SudoVersion {
  major: number;
  minor: number;
  patch: number;
  /** As sudo prints it, e.g. 1.9.13p3. */
  text: string;
}

/** One `user =` of a PHP-FPM pool file. */
export interface FpmPoolUser {
  user: string;
  pool: string;
}

export interface Facts {
  /** The --root every server path is resolved under. */
  readonly root: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** The effective uid bridgectl runs as (only root can chown: owners are planned only then). */
  readonly uid: number;
  /** The effective gid bridgectl runs as (with uid: who could change a path it is about to trust). */
  readonly gid: number;
  /** The current directory as a server path (where WP-CLI would look for the site); undefined when it lies outside --root. */
  readonly cwd?: string;
  /** The live sudo's version (picks the sudo grant's form). */
  sudo(): SudoProbe;
  /** Every `user =` of every PHP-FPM pool, newest PHP version first (who the web user is). */
  fpmPools(): readonly FpmPoolUser[];
  user(name: string): PasswdEntry | undefined;
  userByUid(uid: number): PasswdEntry | undefined;
  usersWithHome(home: string): PasswdEntry[];
  /** Every passwd entry, in database order (where launchd plists may be: adoption scans their homes). */
  users(): PasswdEntry[];
  /** Every group entry, in database order. */
  groups(): GroupEntry[];
  /** Primary plus supplementary group ids of a user. */
  groupIds(user: PasswdEntry): number[];
  groupName(gid: number): string | undefined;
  /** Facts about a server path, following symlinks; undefined when missing. */
  stat(serverPath: string): PathFacts | undefined;
  /** Like stat, but a symlink is reported as one. */
  lstat(serverPath: string): PathFacts | undefined;
  /**
   * File contents as UTF-8; undefined when missing. Invalid UTF-8 is an
   * error, and so is anything but a regular file of at most MAX_READ_BYTES
   * (a FIFO, a device, a directory; a symlink in a directory another user
   * controls): see readRegularFile.
   */
  readText(serverPath: string): string | undefined;
  /** Names in a directory, sorted; undefined when it is missing or not a directory. */
  listDir(serverPath: string): string[] | undefined;
  /** A symlink's target as stored (a server path when absolute); undefined when the path is not a symlink. */
  readLink(serverPath: string): string | undefined;
  /**
   * A pure stage about to read several items names them first: a snapshot
   * that lacks some throws one MissingFacts naming them all, so gather reads
   * them in one round instead of one round each. The live host answers
   * anything: there it does nothing.
   */
  need(items: readonly FactItem[]): void;
}
