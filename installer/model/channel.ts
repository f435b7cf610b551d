/** A channel entry of the channels mu-plugin, as data (render/channel.ts writes and reads it). */

/** What the transport spawns for one channel. */
export interface ChannelSpec {
  name: string;
  command: string;
  args: string[];
  detach: boolean;
  timeout: number;
  /** Env pinned for the child, in render order; empty = no `env` line (historical four-key block). */
  env: [string, string][];
}
