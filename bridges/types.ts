import type { ChannelSpec } from '../installer/channel.js';
import type { Identity } from '../installer/identity.js';
import type { SudoHopSpec } from '../installer/sudo-hop.js';
import type { ServiceSpec } from '../installer/units.js';

/**
 * A bridge is data plus pure functions: no fs, no processes. The engine
 * resolves one Identity per bridge and renders every file the bridge owns
 * from it, in one run — so the channel block and the service unit cannot
 * disagree (the seed's root cause).
 */
export interface BridgeDefinition {
  id: string;
  title: string;
  /** Executable name looked up on the binary search path. */
  binaryName: string;
  /** Where the bridge keeps state: the env var that overrides it, and its default under HOME. */
  dataDir: { env: string; underHome: string };
  /** Its services' names (unit file, launchd label), known before any identity; the first is the primary. */
  units: readonly { unit: string; label: string }[];
  /** The channel block this bridge registers, or null when it registers none. */
  channel(identity: Identity): ChannelSpec | null;
  /** Its long-running services, in the order of `units`. */
  services(identity: Identity): ServiceSpec[];
  /** How `--dispatch sudo` carries one message to the CLI as the service user; absent: direct only. */
  sudoHop?: SudoHopSpec;
}
