/** The channel block and the bridge's service definition agree on the env the CLI reads. */
import path from 'node:path';
import type { BridgeDefinition } from '../model/bridge.js';
import { envValue } from '../render/channel.js';
import { type ChannelSpec } from '../model/channel.js';
import { type InstalledBridge } from '../plan/installed.js';
import { envOf } from '../render/units.js';
import type { Check } from '../model/doctor.js';
import type { DoctorInput } from './input.js';

/** The seed's asymmetry: the unit pins HOME / the data dir and the channel block does not (or differs). */
export function unitEnvCheck(spec: ChannelSpec, bridge: BridgeDefinition, installed: InstalledBridge, input: DoctorInput): Check | undefined {
  const { site } = input;
  const primary = [...installed.services.entries()][0];
  if (!primary) return undefined;
  const [unitPath, unit] = primary;
  const id = `channel.${spec.name}.unit-env`;
  // Only what the bridge's block pins: telegram's curl channel pins no HOME by design (its unit does).
  const keys = [...(bridge.channelFacts.pins ?? [])];
  if (keys.length === 0) return undefined;
  // Either side pinning a key the other does not is a disagreement too: a
  // unit whose HOME line was swallowed by a continuation line pins nothing.
  const differ = keys.filter((k) => envOf(unit.parsed, k) !== envValue(spec, k));
  const name = path.posix.basename(unitPath);
  if (differ.length === 0) return { id, status: 'ok', message: `the channel block and ${name} agree on ${keys.join(' and ')}` };
  const detail = differ.map((k) => `${k}: unit ${envOf(unit.parsed, k) ?? 'not pinned'}, block ${envValue(spec, k) ?? 'not pinned'}`).join('; ');
  return {
    id,
    status: 'fail',
    message: `${name} and the channel block disagree (${detail}): the service and WP-cron dispatches run with different state`,
    fix: `bridgectl upgrade --site ${site}`,
  };
}
