/**
 * An in-memory Host for pure tests: passwd, groups, and a path table.
 */
import type { Host, PasswdEntry, PathFacts } from '../../installer/host.js';

export interface FakeHostSpec {
  users?: PasswdEntry[];
  groups?: { name: string; gid: number; members: string[] }[];
  paths?: Record<string, Partial<PathFacts> & { kind: PathFacts['kind']; text?: string }>;
  env?: Record<string, string>;
  platform?: NodeJS.Platform;
}

export const USERS: PasswdEntry[] = [
  { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' },
  { name: 'www-data', uid: 33, gid: 33, home: '/var/www', shell: '/usr/sbin/nologin' },
  { name: 'opencode', uid: 1001, gid: 1001, home: '/home/opencode', shell: '/bin/bash' },
];

/** A standard server: homes owned by their users, /var/www root-owned, kimaki in /usr/local/bin, a site. */
export const SERVER_PATHS: FakeHostSpec['paths'] = {
  '/root': { kind: 'directory', uid: 0, gid: 0, mode: 0o700 },
  '/home/opencode': { kind: 'directory', uid: 1001, gid: 1001, mode: 0o750 },
  '/var/www': { kind: 'directory', uid: 0, gid: 0, mode: 0o755 },
  '/var/www/html': { kind: 'directory', uid: 33, gid: 33, mode: 0o755 },
  '/usr/local/bin/kimaki': { kind: 'file', uid: 0, gid: 0, mode: 0o755 },
};

export function fakeHost(spec: FakeHostSpec = {}): Host {
  const users = spec.users ?? USERS;
  const groups = spec.groups ?? [];
  const paths = spec.paths ?? SERVER_PATHS;
  const facts = (p: string): PathFacts | undefined => {
    const entry = paths?.[p];
    if (!entry) return undefined;
    return { uid: 0, gid: 0, mode: 0o644, ...entry, isDirectory: entry.kind === 'directory' };
  };
  return {
    root: '/fake',
    env: spec.env ?? {},
    platform: spec.platform ?? 'linux',
    user: (name) => users.find((u) => u.name === name),
    userByUid: (uid) => users.find((u) => u.uid === uid),
    usersWithHome: (home) => users.filter((u) => u.home === home),
    groupIds: (user) => [user.gid, ...groups.filter((g) => g.members.includes(user.name)).map((g) => g.gid)],
    groupName: (gid) => groups.find((g) => g.gid === gid)?.name ?? users.find((u) => u.gid === gid)?.name,
    stat: facts,
    lstat: facts,
    readText: (p) => paths?.[p]?.text,
    listDir: (p) => {
      const prefix = p.endsWith('/') ? p : `${p}/`;
      const names = Object.keys(paths ?? {}).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('/')[0] ?? '');
      return names.length ? [...new Set(names)].sort() : undefined;
    },
    readLink: () => undefined,
  };
}
