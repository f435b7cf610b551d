/**
 * An in-memory machine for pure tests: a complete, literal facts snapshot
 * (passwd, groups, env and a file tree) where a path it does not hold is
 * absent. Directories are implied by the files under them unless listed
 * with their own ownership. Nothing touches the filesystem.
 */
import path from 'node:path';
import { factsOf, type PathAnswers, type Snapshot } from '../../installer/facts/snapshot.js';
import type { Facts, GroupEntry, PasswdEntry, PathFacts, SudoProbe } from '../../installer/model/facts.js';

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
  /** Who runs bridgectl (default: whoever runs the test, as on the live host). */
  uid?: number;
  gid?: number;
  /** The live sudo (default: not the live host, so never asked). */
  sudo?: SudoProbe;
  /** Server path → file (content string) or entry. Parent directories are implied (root-owned, 0755). */
  files?: Record<string, string | FakeEntry>;
  /**
   * WordPress roots (wp-config.php and wp-includes/ added), so --site takes
   * them. Default: every directory holding a wp-content entry; [] for none.
   */
  wordpress?: string[];
  /** The current directory, a server path (where the site is looked for without --site). */
  cwd?: string;
}

/** What makes a directory a WordPress root to resolveSite. */
export function wordpressFiles(site: string): Record<string, string | FakeEntry> {
  return { [`${site}/wp-config.php`]: "<?php\n// a test site's config\n", [`${site}/wp-includes`]: dir() };
}

export const ROOT: PasswdEntry = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' };
export const WWW: PasswdEntry = { name: 'www-data', uid: 33, gid: 33, home: '/var/www', shell: '/usr/sbin/nologin' };
export const CHUBES: PasswdEntry = { name: 'chubes', uid: 1000, gid: 1000, home: '/home/chubes', shell: '/bin/bash' };

export const dir = (uid = 0, gid = 0, mode = 0o755): FakeEntry => ({ kind: 'directory', uid, gid, mode });
export const exe = (uid = 0): FakeEntry => ({ kind: 'file', uid, gid: 0, mode: 0o755, content: '#!/bin/sh\n' });

/** The spec as a complete snapshot. */
export function fakeSnapshot(spec: FakeHostSpec = {}): Snapshot {
  const users = spec.users ?? [ROOT, WWW, CHUBES];
  const groups = spec.groups ?? users.map((u) => ({ name: u.name, gid: u.gid, members: [] }));
  const entries = new Map<string, PathFacts & { content?: string }>();
  const given = spec.files ?? {};
  const sites = spec.wordpress ?? [...new Set(Object.keys(given).flatMap((p) => {
    const at = path.posix.normalize(p).indexOf('/wp-content');
    return at > 0 ? [path.posix.normalize(p).slice(0, at)] : [];
  }))];
  const files = { ...Object.assign({}, ...sites.map(wordpressFiles)), ...given } as Record<string, string | FakeEntry>;
  for (const [p, v] of Object.entries(files)) {
    const e = typeof v === 'string' ? { content: v } : v;
    const kind = e.kind ?? (e.content === undefined ? 'directory' : 'file');
    entries.set(path.posix.normalize(p), {
      kind, uid: e.uid ?? 0, gid: e.gid ?? 0, mode: e.mode ?? (kind === 'directory' ? 0o755 : 0o644), isDirectory: kind === 'directory',
      ...(e.content === undefined ? {} : { content: e.content }),
    });
    for (let d = path.posix.dirname(path.posix.normalize(p)); !entries.has(d); d = path.posix.dirname(d)) {
      entries.set(d, { kind: 'directory', uid: 0, gid: 0, mode: 0o755, isDirectory: true });
      if (d === '/') break;
    }
  }
  const paths = new Map<string, PathAnswers>();
  for (const [p, { content, ...facts }] of entries) {
    const prefix = p === '/' ? '/' : `${p}/`;
    const list = facts.kind === 'directory'
      ? [...entries.keys()].filter((k) => k.startsWith(prefix) && k !== p && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort()
      : undefined;
    paths.set(p, { stat: { value: facts }, lstat: { value: facts }, text: { value: content }, list: { value: list }, link: { value: undefined } });
  }
  return {
    root: '/',
    env: spec.env ?? {},
    platform: spec.platform ?? 'linux',
    uid: spec.uid ?? process.geteuid?.() ?? 0,
    gid: spec.gid ?? process.getegid?.() ?? 0,
    ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
    complete: true,
    passwd: { value: users },
    group: { value: groups },
    ...(spec.sudo ? { sudo: { value: spec.sudo } } : {}),
    paths,
  };
}

export function fakeHost(spec: FakeHostSpec = {}): Facts {
  return factsOf(fakeSnapshot(spec));
}
