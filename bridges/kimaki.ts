import type { BridgeDefinition } from './types.js';

/**
 * kimaki (Discord). `kimaki send` creates its data dir (KIMAKI_DATA_DIR, else
 * $HOME/.kimaki) on every call, so the block pins both: under WP-cron the
 * inherited HOME is the web user's (/var/www, unwritable) and the send dies
 * with exit 64 — the seed's bug.
 */
export const kimaki: BridgeDefinition = {
  id: 'kimaki',
  title: 'kimaki (Discord)',
  binaryName: 'kimaki',
  dataDir: { env: 'KIMAKI_DATA_DIR', underHome: '.kimaki' },
  channel: (identity) => ({
    name: 'kimaki',
    command: identity.binary,
    args: ['send', '--channel', '{recipient}', '--prompt', '{message}'],
    detach: true,
    timeout: 600,
    env: [
      ['HOME', identity.home],
      ['KIMAKI_DATA_DIR', identity.dataDir],
    ],
  }),
};
