import path from 'node:path';
import { binDir, searchPath, SYSTEM_PATH } from './paths.js';
import type { BridgeDefinition } from '../installer/model/bridge.js';

/**
 * kimaki (Discord). `kimaki send` creates its data dir (KIMAKI_DATA_DIR, else
 * $HOME/.kimaki) on every call, so the block pins both: under WP-cron the
 * inherited HOME is the web user's (/var/www, unwritable) and the send dies
 * with exit 64 — the seed's bug. The unit pins the same two values.
 */
const KIMAKI_DATA_DIR = { env: 'KIMAKI_DATA_DIR', underHome: '.kimaki' };

export const kimaki: BridgeDefinition = {
  id: 'kimaki',
  title: 'kimaki (Discord)',
  binaryName: 'kimaki',
  dataDir: KIMAKI_DATA_DIR,
  channelFacts: { writesHome: 'yes', stateDir: KIMAKI_DATA_DIR, writesCwd: true, pins: ['HOME', 'KIMAKI_DATA_DIR'] },
  units: [{ unit: 'kimaki.service', label: 'com.wp.kimaki' }],
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
  // --dispatch sudo: the target accepts `send <channel id>` (a Discord
  // snowflake: digits only) and runs kimaki with the message as
  // `--prompt=<msg>`: kimaki's parser takes `--prompt -x…` for a missing
  // value, the `=` form passes a leading dash through unchanged.
  sudoHop: {
    subcommand: 'send',
    recipient: { first: '0-9', rest: '0-9', what: 'a Discord channel id (digits only)', sample: '123456789012345678' },
    cli: ['send', '--channel', '{recipient}', '--prompt={message}'],
  },
  services: (identity) => {
    const home = (dir: string): string => path.posix.join(identity.home, dir);
    return [
      {
        unit: 'kimaki.service',
        label: 'com.wp.kimaki',
        description: 'Kimaki Discord Bot (wp-coding-agents)',
        after: [],
        requires: [],
        user: identity.serviceUser,
        workingDirectory: identity.site,
        argv: [identity.binary, '--data-dir', identity.dataDir, '--auto-restart', '--no-critique'],
        systemdEnv: [
          ['HOME', identity.home],
          ['PATH', searchPath([binDir(identity.binary), ...SYSTEM_PATH])],
          ['KIMAKI_DATA_DIR', identity.dataDir],
        ],
        launchdEnv: [
          [
            'PATH',
            searchPath([
              '/opt/homebrew/bin',
              binDir(identity.binary),
              home('.local/bin'),
              home('.opencode/bin'),
              home('.bun/bin'),
              ...SYSTEM_PATH,
              '/usr/sbin',
              '/sbin',
            ]),
          ],
          ['KIMAKI_DATA_DIR', identity.dataDir],
          ['HOME', identity.home],
        ],
        stdoutPath: path.posix.join(identity.dataDir, 'kimaki.log'),
        stderrPath: path.posix.join(identity.dataDir, 'kimaki.error.log'),
      },
    ];
  },
};
