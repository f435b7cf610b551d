/** What bridgectl knows of the machine: users, groups and paths, as the server sees them (read by facts/). */

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

export interface Host {
  /** The --root every server path is resolved under. */
  readonly root: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  user(name: string): PasswdEntry | undefined;
  userByUid(uid: number): PasswdEntry | undefined;
  usersWithHome(home: string): PasswdEntry[];
  /** Every passwd entry, in database order (where launchd plists may be: adoption scans their homes). */
  users(): PasswdEntry[];
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
}
