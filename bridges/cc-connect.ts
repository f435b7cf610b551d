import path from 'node:path';
import type { Identity } from '../installer/model/identity.js';
import { fixedPathWith, LAUNCHD_PATH, SYSTEM_PATH } from './paths.js';
import type { BridgeDefinition } from '../installer/model/bridge.js';

/**
 * cc-connect (multi-platform chat bridge for Claude Code). `cc-connect send`
 * reaches the running daemon through `<data dir>/run/api.sock`, the data dir
 * being `--data-dir`, else `$HOME/.cc-connect` (Go's os.UserHomeDir is
 * $HOME). Spawned from PHP-FPM, HOME is the web user's (/var/www) and the
 * send cannot find the daemon — the seed's bug class. So the block pins
 * HOME, which keeps the historical argv byte for byte; a data dir other than
 * the default is passed as `--data-dir` to both the send and the daemon, so
 * the two always agree. CC_DATA_DIR is the bash installer's name for it.
 */
const CC_DATA_DIR_UNDER_HOME = '.cc-connect';

export const ccConnect: BridgeDefinition = {
  id: 'cc-connect',
  title: 'cc-connect (Claude Code chat bridge)',
  binaryName: 'cc-connect',
  dataDir: { env: 'CC_DATA_DIR', underHome: CC_DATA_DIR_UNDER_HOME },
  // Reaches its daemon over <data dir>/run/api.sock; writes nothing under HOME itself.
  channelFacts: { writesHome: 'no', pins: ['HOME'], socket: { path: 'run/api.sock', dataDirFlag: '--data-dir', underHome: CC_DATA_DIR_UNDER_HOME } },
  units: [{ unit: 'cc-connect.service', label: 'com.wp.cc-connect' }],
  channel: (identity) => ({
    name: 'cc-connect',
    command: identity.binary,
    args: ['send', ...dataDirArgs(identity), '--project', '{recipient}', '{message}'],
    detach: true,
    timeout: 600,
    env: [['HOME', identity.home]],
  }),
  // --dispatch sudo (docs/dispatch-modes.md): the target accepts
  // `send <project>` and runs `cc-connect send [--data-dir D] --project
  // <project> --message <msg>`, the data dir passed exactly as the channel
  // and the daemon get it. `cc-connect send` reads its arguments with a
  // hand-written loop, not Go's flag package: `--` is no terminator there
  // (it would be joined into the message), and a positional message that
  // equals one of its flags (`--help`, `--stdin`, `-m`) is taken as that
  // flag; the value after `--message` is taken verbatim, whatever it starts
  // with. A project name is a safe word: letters and digits first, then
  // also `_` `.` `-`, so it can never be read as an option.
  sudoHop: {
    subcommand: 'send',
    recipient: {
      first: 'A-Za-z0-9',
      rest: 'A-Za-z0-9_.-',
      what: 'a cc-connect project name (ASCII letters, digits, _ . -; starting with a letter or digit)',
      sample: 'my-project',
    },
    cli: (identity) => ['send', ...dataDirArgs(identity), '--project', '{recipient}', '--message', '{message}'],
  },
  services: (identity) => [
    {
      unit: 'cc-connect.service',
      label: 'com.wp.cc-connect',
      description: 'cc-connect Chat Bridge (wp-coding-agents)',
      after: [],
      requires: [],
      user: identity.serviceUser,
      workingDirectory: identity.site,
      argv: [identity.binary, ...dataDirArgs(identity)],
      systemdEnv: [
        ['HOME', identity.home],
        ['PATH', fixedPathWith(SYSTEM_PATH, [identity.binary])],
      ],
      launchdEnv: [
        ['PATH', fixedPathWith(LAUNCHD_PATH, [identity.binary])],
        ['HOME', identity.home],
      ],
      stdoutPath: path.posix.join(identity.dataDir, 'cc-connect.log'),
      stderrPath: path.posix.join(identity.dataDir, 'cc-connect.error.log'),
    },
  ],
};

/** `--data-dir <dir>` when the data dir is not the one cc-connect derives from HOME. */
function dataDirArgs(identity: Identity): string[] {
  return identity.dataDir === path.posix.join(identity.home, CC_DATA_DIR_UNDER_HOME) ? [] : ['--data-dir', identity.dataDir];
}
