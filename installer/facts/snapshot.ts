/**
 * A snapshot: what was read from the machine, as plain immutable data, and
 * a Facts view over it. Pure stages (identity, plan, doctor's diagnosis)
 * see only such a view: a question it cannot answer throws MissingFacts
 * naming the item, and gather.ts reads it. Nothing here reads.
 */
import path from 'node:path';
import { MissingFacts, type FactItem } from '../model/errors.js';
import type { Facts, FpmPoolUser, GroupEntry, PasswdEntry, PathFacts, SudoProbe } from '../model/facts.js';
import { fpmPoolUsers } from './web-user.js';

/** What one read gave: its value, or what it threw (the stage that asks gets the same throw). */
export type Answer<T> = { readonly value: T } | { readonly error: unknown };

/** Everything read of one server path, by kind. */
export interface PathAnswers {
  readonly stat?: Answer<PathFacts | undefined>;
  readonly lstat?: Answer<PathFacts | undefined>;
  readonly text?: Answer<string | undefined>;
  readonly list?: Answer<readonly string[] | undefined>;
  readonly link?: Answer<string | undefined>;
}

export type PathKind = keyof PathAnswers;
const PATH_KINDS: readonly PathKind[] = ['stat', 'lstat', 'text', 'list', 'link'];

export interface Snapshot {
  readonly root: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  readonly uid: number;
  readonly gid: number;
  readonly cwd?: string;
  /**
   * A literal machine (tests, render's flags-only identity): a path it does
   * not hold is absent and nothing is missing. A gathered snapshot is
   * incomplete: what it does not hold was not read yet.
   */
  readonly complete: boolean;
  readonly passwd?: Answer<readonly PasswdEntry[]>;
  readonly group?: Answer<readonly GroupEntry[]>;
  readonly sudo?: Answer<SudoProbe>;
  readonly fpmPools?: Answer<readonly FpmPoolUser[]>;
  readonly paths: ReadonlyMap<string, PathAnswers>;
}

type MachineKind = 'passwd' | 'group' | 'sudo' | 'fpmPools';

/** What a snapshot holds for an item, or undefined when it was not read. */
export function answerOf(snapshot: Snapshot, item: FactItem): Answer<unknown> | undefined {
  if ('path' in item) return snapshot.paths.get(item.path)?.[item.kind];
  return snapshot[item.kind];
}

/** Every item a snapshot holds, in a stable order (what refresh reads again). */
export function itemsOf(snapshot: Snapshot): FactItem[] {
  const items: FactItem[] = [];
  for (const kind of ['passwd', 'group', 'sudo', 'fpmPools'] as const) if (snapshot[kind] !== undefined) items.push({ kind });
  for (const [p, answers] of snapshot.paths) for (const kind of PATH_KINDS) if (answers[kind] !== undefined) items.push({ kind, path: p });
  return items;
}

/** A new snapshot with these answers added (or replaced); the old one is unchanged. */
export function withAnswers(snapshot: Snapshot, answers: readonly (readonly [FactItem, Answer<unknown>])[]): Snapshot {
  const paths = new Map(snapshot.paths);
  const machine: Partial<Record<MachineKind, Answer<unknown>>> = {};
  for (const [item, answer] of answers) {
    const held = 'value' in answer ? Object.freeze({ value: deepFreeze(answer.value) }) : Object.freeze(answer);
    if ('path' in item) paths.set(item.path, Object.freeze({ ...paths.get(item.path), [item.kind]: held }));
    else machine[item.kind] = held;
  }
  return Object.freeze({ ...snapshot, ...machine, paths } as Snapshot);
}

/** Plain data all the way down (an answer is a string, PathFacts, passwd entries, names…). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** An empty snapshot of a machine: nothing read yet but what every run is given (root, env, platform, uid). */
export function emptySnapshot(base: Pick<Facts, 'root' | 'env' | 'platform' | 'uid' | 'gid' | 'cwd'>): Snapshot {
  return Object.freeze({
    root: base.root, env: Object.freeze({ ...base.env }), platform: base.platform, uid: base.uid, gid: base.gid,
    ...(base.cwd !== undefined ? { cwd: base.cwd } : {}), complete: false, paths: new Map(),
  });
}

/** A Facts view over a snapshot; it answers from the snapshot alone. */
export function factsOf(snapshot: Snapshot): Facts {
  const key = (p: string): string => (snapshot.complete ? path.posix.normalize(p) : p);
  const take = <T>(answer: Answer<T>): T => {
    if ('error' in answer) throw answer.error;
    return answer.value;
  };
  const onPath = <T>(kind: PathKind, p: string): T => {
    const answer = snapshot.paths.get(key(p))?.[kind] as Answer<T> | undefined;
    if (answer !== undefined) return take(answer);
    if (snapshot.complete) return undefined as T;
    throw new MissingFacts({ kind, path: p });
  };
  const machine = <T>(kind: MachineKind, absent: () => T): T => {
    const answer = snapshot[kind] as Answer<T> | undefined;
    if (answer !== undefined) return take(answer);
    if (snapshot.complete) return absent();
    throw new MissingFacts({ kind });
  };
  const passwd = (): readonly PasswdEntry[] => machine('passwd', () => []);
  const groups = (): readonly GroupEntry[] => machine('group', () => []);
  const facts: Facts = {
    root: snapshot.root,
    env: snapshot.env,
    platform: snapshot.platform,
    uid: snapshot.uid,
    gid: snapshot.gid,
    ...(snapshot.cwd !== undefined ? { cwd: snapshot.cwd } : {}),
    sudo: () => machine<SudoProbe>('sudo', () => ({ live: false })),
    // A literal machine's pools are those its files hold.
    fpmPools: () => machine('fpmPools', () => fpmPoolUsers(facts)),
    user: (name) => passwd().find((u) => u.name === name),
    userByUid: (uid) => passwd().find((u) => u.uid === uid),
    usersWithHome: (home) => passwd().filter((u) => u.home === home),
    users: () => [...passwd()],
    groups: () => [...groups()],
    groupIds: (user) => [user.gid, ...groups().filter((g) => g.members.includes(user.name)).map((g) => g.gid)],
    groupName: (gid) => groups().find((g) => g.gid === gid)?.name,
    stat: (p) => onPath('stat', p),
    lstat: (p) => onPath('lstat', p),
    readText: (p) => onPath('text', p),
    listDir: (p) => {
      const names = onPath<readonly string[] | undefined>('list', p);
      return names === undefined ? undefined : [...names];
    },
    readLink: (p) => onPath('link', p),
    need: (items) => {
      if (snapshot.complete) return;
      const [first, ...more] = items.filter((item) => answerOf(snapshot, item) === undefined);
      if (first !== undefined) throw new MissingFacts(first, more);
    },
  };
  return Object.freeze(facts);
}

/** Read one item from a Facts that can answer it (the live host), keeping a throw as the answer. */
export function readItem(host: Facts, item: FactItem): Answer<unknown> {
  try {
    return { value: ask(host, item) };
  } catch (error) {
    if (error instanceof MissingFacts) throw error;
    return { error };
  }
}

function ask(host: Facts, item: FactItem): unknown {
  switch (item.kind) {
    case 'passwd':
      return host.users();
    case 'group':
      return host.groups();
    case 'sudo':
      return host.sudo();
    case 'fpmPools':
      return host.fpmPools();
    case 'stat':
      return host.stat(item.path);
    case 'lstat':
      return host.lstat(item.path);
    case 'text':
      return host.readText(item.path);
    case 'list':
      return host.listDir(item.path);
    case 'link':
      return host.readLink(item.path);
  }
}

/** Whether two answers are the same: equal values, or errors with the same message. */
export function sameAnswer(a: Answer<unknown> | undefined, b: Answer<unknown> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b && errorText(a.error) === errorText(b.error);
  return a.value === b.value || (typeof a.value !== 'string' && typeof b.value !== 'string' && JSON.stringify(a.value) === JSON.stringify(b.value));
}

function errorText(err: unknown): string {
  const hint = (err as { hint?: unknown } | null)?.hint;
  return `${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}${typeof hint === 'string' ? ` (${hint})` : ''}`;
}
