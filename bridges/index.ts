/**
 * The registry: one list drives --bridge choices, help text and lookups.
 */
import { kimaki } from './kimaki.js';
import type { BridgeDefinition } from './types.js';

export type { BridgeDefinition } from './types.js';

export const bridges = [kimaki] as const satisfies readonly BridgeDefinition[];

export type BridgeId = (typeof bridges)[number]['id'];

export const bridgeIds: readonly string[] = bridges.map((b) => b.id);

export function findBridge(id: string): BridgeDefinition | undefined {
  return bridges.find((b) => b.id === id);
}
