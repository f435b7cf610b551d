/**
 * One bridge's identity, resolved once and frozen: who runs it, where, with
 * which executables (the channel's own, e.g. telegram's curl, included) and
 * its secret. Rendering and planning read it; nothing changes it after.
 */
import type { BridgeDefinition } from '../model/bridge.js';
import type { Facts } from '../model/facts.js';
import type { Adopted, Identity, IdentityFlags } from '../model/identity.js';
import { resolveBinary, resolveIdentity } from './identity.js';
import { resolveSecret, type SecretResolution } from './secrets.js';

export interface BridgeIdentity {
  identity: Readonly<Identity>;
  /** The bridge's secret, when it declares one. */
  secret?: SecretResolution;
  /** Notes by where they come from, so the caller keeps the order a report shows them in. */
  notes: { identity: string[]; channelBinary: string[] };
}

export function resolveBridgeIdentity(
  bridge: BridgeDefinition,
  flags: IdentityFlags,
  adopted: Adopted,
  site: string,
  facts: Facts,
  /** The installed channel block's body (a legacy block may carry the secret). */
  blockText: string | undefined,
): BridgeIdentity {
  const resolved = resolveIdentity(bridge, flags, adopted, site, facts);
  const secret = bridge.secret ? resolveSecret(bridge, bridge.secret, flags, resolved.identity, facts, blockText) : undefined;
  const channelBinary: string[] = [];
  const binaries = { ...resolved.identity.binaries };
  // The channel's executable is needed only when the channel is registered: a bridge whose secret is missing registers none.
  if (bridge.channelBinary !== undefined && (bridge.secret === undefined || secret?.value !== undefined)) {
    binaries[bridge.channelBinary] = resolveBinary(bridge, bridge.channelBinary, flags, adopted, resolved.identity.home, facts, channelBinary);
  }
  const identity = Object.freeze({ ...resolved.identity, binaries: Object.freeze(binaries) });
  return { identity, ...(secret ? { secret } : {}), notes: { identity: resolved.notes, channelBinary } };
}
