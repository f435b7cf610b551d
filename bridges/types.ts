import type { ChannelSpec } from '../installer/channel.js';
import type { Identity } from '../installer/identity.js';

/**
 * A bridge is data plus two pure functions: no fs, no processes. The engine
 * resolves one Identity and every file a bridge owns is rendered from it,
 * so the channel block and the service unit cannot disagree.
 */
export interface BridgeDefinition {
  id: string;
  title: string;
  /** Executable name looked up on the binary search path. */
  binaryName: string;
  /** Where the bridge keeps state: the env var that overrides it, and its default under HOME. */
  dataDir: { env: string; underHome: string };
  /** The channel block this bridge registers. */
  channel(identity: Identity): ChannelSpec;
}
