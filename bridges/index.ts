/**
 * The registry: one list drives --bridge choices, help text and lookups.
 */
import { ccConnect } from './cc-connect.js';
import { kimaki } from './kimaki.js';
import { telegram } from './telegram.js';
import type { BridgeDefinition } from '../installer/model/bridge.js';

export const bridges = [kimaki, ccConnect, telegram] as const satisfies readonly BridgeDefinition[];

export type BridgeId = (typeof bridges)[number]['id'];

export const bridgeIds: readonly string[] = bridges.map((b) => b.id);

export function findBridge(id: string): BridgeDefinition | undefined {
  return bridges.find((b) => b.id === id);
}
