/**
 * An in-memory Host for pure tests: passwd, groups, env and a file tree as
 * literals. Directories are implied by the files under them unless listed
 * with their own ownership.
 */
import path from 'node:path';
import type { GroupEntry, Host, PasswdEntry, PathFacts } from '../../installer/model/facts.js';

export interface FakeEntry {
  content?: string;
  kind?: PathFacts['kind'];
  uid?: number;
  gid?: number;
  mode?: number;
}

export interface FakeHostSpec {
  users?: PasswdEntry[];
  groups?: GroupEntry[];
  env?: Record<string, string | undefined>;
  platform?: NodeJS.Platform;
  /** Server path → file (content string) or entry. Parent directories are implied (root-owned, 0755). */
  files?: Record<string, string | FakeEntry>;
}

export const ROOT: PasswdEntry = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' };
export const WWW: PasswdEntry = { name: 'www-data', uid: 33, gid: 33, home: '/var/www', shell: '/usr/sbin/nologin' };
export const CHUBES: PasswdEntry = { name: 'chubes', uid: 1000, gid: 1000, home: '/home/chubes', shell: '/bin/bash' };

export const dir = (uid = 0, gid = 0, mode = 0o755): FakeEntry => ({ kind: 'directory', uid, gid, mode });
export const exe = (uid = 0): FakeEntry => ({ kind: 'file', uid, gid: 0, mode: 0o755, content: '#!/bin/sh\n' });

export function fakeHost(spec: FakeHostSpec = {}): Host {
  const users = spec.users ?? [ROOT, WWW, CHUBES];
  const groups = spec.groups ?? users.map((u) => ({ name: u.name, gid: u.gid, members: [] }));
  const entries = new Map<string, Required<Pick<FakeEntry, 'kind' | 'uid' | 'gid' | 'mode'>> & { content?: string }>();
  for (const [p, v] of Object.entries(spec.files ?? {})) {
    const e = typeof v === 'string' ? { content: v } : v;
    const kind = e.kind ?? (e.content === undefined ? 'directory' : 'file');
    entries.set(p, { kind, uid: e.uid ?? 0, gid: e.gid ?? 0, mode: e.mode ?? (kind === 'directory' ? 0o755 : 0o644), ...(e.content === undefined ? {} : { content: e.content }) });
    for (let d = path.posix.dirname(p); !entries.has(d); d = path.posix.dirname(d)) {
      entries.set(d, { kind: 'directory', uid: 0, gid: 0, mode: 0o755 });
      if (d === '/') break;
    }
  }
  const facts = (p: string): PathFacts | undefined => {
    const e = entries.get(path.posix.normalize(p));
    return e && { kind: e.kind, uid: e.uid, gid: e.gid, mode: e.mode, isDirectory: e.kind === 'directory' };
  };
  return {
    root: '/',
    env: spec.env ?? {},
    platform: spec.platform ?? 'linux',
    user: (name) => users.find((u) => u.name === name),
    userByUid: (uid) => users.find((u) => u.uid === uid),
    usersWithHome: (home) => users.filter((u) => u.home === home),
    users: () => [...users],
    groupIds: (user) => [user.gid, ...groups.filter((g) => g.members.includes(user.name)).map((g) => g.gid)],
    groupName: (gid) => groups.find((g) => g.gid === gid)?.name,
    stat: facts,
    lstat: facts,
    readText: (p) => entries.get(path.posix.normalize(p))?.content,
    readLink: () => undefined,
    listDir: (p) => {
      const base = path.posix.normalize(p);
      if (entries.get(base)?.kind !== 'directory') return undefined;
      const prefix = base === '/' ? '/' : `${base}/`;
      return [...entries.keys()].filter((k) => k.startsWith(prefix) && k !== base && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort();
    },
  };
}
