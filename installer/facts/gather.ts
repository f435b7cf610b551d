/**
 * The one way a pure stage meets the machine. gather runs the stage over a
 * snapshot; when the stage asks for something the snapshot lacks it stops
 * with MissingFacts, gather reads exactly that item from the live host into
 * a new snapshot and runs the stage again. Under the host lock, refresh
 * reads every item of the snapshot again: the same answers mean a plan made
 * from it still stands.
 */
import { MissingFacts, type FactItem } from '../model/errors.js';
import type { Facts } from '../model/facts.js';
import { answerOf, emptySnapshot, factsOf, itemsOf, readItem, sameAnswer, withAnswers, type Answer, type Snapshot } from './snapshot.js';

export interface Gathered<T> {
  value: T;
  /** The snapshot the stage ran over to the end: what it read, and nothing else it did not ask for but the prefetch. */
  snapshot: Snapshot;
  /** How many times the stage ran (1: the snapshot held everything it asked). */
  rounds: number;
}

/**
 * A stage asks for one item per round: far more rounds than a plan has
 * questions means a stage that does not settle, which is a bug.
 */
export const MAX_ROUNDS = 2000;

/** Read these items from the live host into a new snapshot (items it holds already are not read again). */
export function extend(snapshot: Snapshot, host: Facts, items: readonly FactItem[]): Snapshot {
  const seen = new Set<string>();
  const read: [FactItem, Answer<unknown>][] = [];
  for (const item of items) {
    const id = itemKey(item);
    if (seen.has(id) || answerOf(snapshot, item) !== undefined) continue;
    seen.add(id);
    read.push([item, readItem(host, item)]);
  }
  return read.length === 0 ? snapshot : withAnswers(snapshot, read);
}

/** Run a pure stage over what the live host answers, reading each item once. */
export function gather<T>(host: Facts, stage: (facts: Facts) => T, options: { from?: Snapshot; prefetch?: readonly FactItem[] } = {}): Gathered<T> {
  let snapshot = extend(options.from ?? emptySnapshot(host), host, options.prefetch ?? []);
  for (let rounds = 1; rounds <= MAX_ROUNDS; rounds++) {
    try {
      return { value: stage(factsOf(snapshot)), snapshot, rounds };
    } catch (err) {
      if (!(err instanceof MissingFacts)) throw err;
      const held = err.items.find((item) => answerOf(snapshot, item) !== undefined);
      if (held !== undefined) throw new Error(`a stage asked for ${itemKey(held)}, which the snapshot holds: ${err.message}`);
      snapshot = extend(snapshot, host, err.items);
    }
  }
  throw new Error(`a stage still missed facts after ${MAX_ROUNDS} rounds`);
}

export interface Refreshed {
  /** Whether the live host gives every item of the snapshot the same answer. */
  same: boolean;
  /** The snapshot as the host answers now (the given one when nothing changed). */
  snapshot: Snapshot;
}

/**
 * Read every item of a snapshot again. A stage's result is a function of
 * its flags and the snapshot, so when every answer is the same, running it
 * again would give the same result; a different answer (a writer ran in
 * between) means gather again, starting from these fresh answers.
 */
export function refresh(snapshot: Snapshot, host: Facts): Refreshed {
  if (host.root !== snapshot.root) return { same: false, snapshot: emptySnapshot(host) };
  const fresh = itemsOf(snapshot).map((item) => [item, readItem(host, item)] as const);
  const same = fresh.every(([item, answer]) => sameAnswer(answerOf(snapshot, item), answer));
  return same ? { same, snapshot } : { same, snapshot: withAnswers(emptySnapshot(host), fresh) };
}

function itemKey(item: FactItem): string {
  return 'path' in item ? `${item.kind} ${item.path}` : item.kind;
}
