import path from 'node:path';
import { dotenvValue } from '../installer/lib/dotenv.js';
import { fixedPathWith, LAUNCHD_PATH, SYSTEM_PATH } from './paths.js';
import type { BridgeDefinition } from '../installer/model/bridge.js';

/**
 * Telegram, through opencode-telegram-bot: two services — `opencode serve`
 * (the agent over HTTP on localhost:4096) and `opencode-telegram start` (the
 * bot, relaying between Telegram and that server). The bot is inbound only
 * and has no send command, so the channel posts to the Bot API's sendMessage
 * with curl.
 *
 * The bot token must not be in the channels file (web-readable PHP), in
 * argv (ps), or in any output. bridgectl keeps it in a curl config file
 * outside the web root that only root and the web user's group can read;
 * the channel runs `curl -q --config <file>`: `-q` (first) so no ~/.curlrc
 * is read, and the URL with the token comes from the file. curl then reads
 * nothing under HOME, so the block pins no env and keeps the historical
 * four-key shape.
 */

/** Where bridgectl keeps the token: outside any web root, one per machine like the bot service itself. */
export const TELEGRAM_CURL_CONFIG = '/etc/bridgectl/telegram.curl';

const TOKEN_ENV = 'TELEGRAM_BOT_TOKEN';
/** BotFather tokens: `<bot id>:<secret>`. */
export const TELEGRAM_TOKEN_SHAPE = /^[0-9]+:[A-Za-z0-9_-]+$/;
const API = 'https://api.telegram.org/bot';

export function renderCurlConfig(token: string): string {
  return [
    '# Managed by bridgectl: the telegram channel\'s Bot API endpoint, with the bot token.',
    '# Readable by root and the web user\'s group only. Rotate the token with',
    '# `bridgectl upgrade` (it reads TELEGRAM_BOT_TOKEN, --telegram-token or the bot\'s .env).',
    `url = "${API}${token}/sendMessage"`,
    '',
  ].join('\n');
}

export function readCurlConfig(text: string): string | undefined {
  return /^\s*(?:--)?url\s*[=:]?\s*"https:\/\/api\.telegram\.org\/bot([^/"\s]*)\/sendMessage"\s*$/m.exec(text)?.[1];
}

export const telegram: BridgeDefinition = {
  id: 'telegram',
  title: 'Telegram (opencode-telegram-bot)',
  binaryName: 'opencode-telegram',
  serviceBinaries: ['opencode'],
  channelBinary: 'curl',
  // The bot reads its config (and the bash installer put the logs) here; it has no override.
  dataDir: { underHome: '.config/opencode-telegram-bot' },
  // The channel runs curl -q: it reads and writes nothing under HOME.
  channelFacts: { writesHome: 'no', pins: [] },
  units: [
    { unit: 'opencode-serve.service', label: 'com.wp.opencode-serve', binary: 'opencode' },
    { unit: 'opencode-telegram.service', label: 'com.wp.opencode-telegram' },
  ],
  secret: {
    label: 'telegram bot token',
    flag: '--telegram-token',
    env: TOKEN_ENV,
    describe: `Telegram bot token (visible in ps: prefer env ${TOKEN_ENV} or the bot's .env)`,
    describeForRender: 'Telegram bot token, for the telegram channel: the token file is listed with its content omitted (--out writes it)',
    sample: '1234567890:AAfake-golden_token_NOT-REAL',
    shape: TELEGRAM_TOKEN_SHAPE,
    shapeHint: '<digits>:<letters, digits, _ or ->',
    malformedFix: 'pass the token BotFather gave you',
    adoptFrom: (identity) => [{ path: path.posix.join(identity.dataDir, '.env'), read: (text) => dotenvValue(text, TOKEN_ENV) }],
    file: { path: TELEGRAM_CURL_CONFIG, render: renderCurlConfig, read: readCurlConfig },
    // The bash installer baked the token into the block's URL argument.
    findIn: (text) => [...text.matchAll(/api\.telegram\.org\/bot([^/'"\s]+)\/sendMessage/g)].map((m) => m[1] ?? ''),
  },
  channel: (_identity, { command, secretFile }) =>
    command === undefined || secretFile === undefined
      ? null
      : {
          name: 'telegram',
          command,
          args: ['-q', '--config', secretFile, '-sS', '--fail', '--data-urlencode', 'chat_id={recipient}', '--data-urlencode', 'text={message}'],
          detach: false,
          timeout: 60,
          env: [],
        },
  services: (identity) => {
    const opencode = identity.binaries.opencode ?? '';
    const bot = identity.binary;
    // Both services run as the same user, from the site, with the same HOME and PATH.
    const shared = {
      user: identity.serviceUser,
      workingDirectory: identity.site,
      systemdEnv: [
        ['HOME', identity.home],
        ['PATH', fixedPathWith(SYSTEM_PATH, [opencode, bot])],
      ] as [string, string][],
    };
    const launchdEnv: [string, string][] = [
      ['PATH', fixedPathWith(LAUNCHD_PATH, [opencode, bot])],
      ['HOME', identity.home],
    ];
    const log = (name: string): string => path.posix.join(identity.dataDir, name);
    return [
      {
        ...shared,
        unit: 'opencode-serve.service',
        label: 'com.wp.opencode-serve',
        description: 'OpenCode Server (wp-coding-agents)',
        after: [],
        requires: [],
        argv: [opencode, 'serve'],
        launchdEnv,
        environmentFile: `-${path.posix.join(identity.home, '.config/opencode-serve.env')}`,
        stdoutPath: log('opencode-serve.log'),
        stderrPath: log('opencode-serve.error.log'),
      },
      {
        ...shared,
        unit: 'opencode-telegram.service',
        label: 'com.wp.opencode-telegram',
        description: 'OpenCode Telegram Bot (wp-coding-agents)',
        after: ['opencode-serve.service'],
        requires: ['opencode-serve.service'],
        argv: [bot, 'start'],
        // launchd has no EnvironmentFile=: the bot's server URL goes in the plist (systemd reads it from .env).
        launchdEnv: [...launchdEnv, ['OPENCODE_API_URL', 'http://localhost:4096']],
        environmentFile: path.posix.join(identity.dataDir, '.env'),
        stdoutPath: log('opencode-telegram.log'),
        stderrPath: log('opencode-telegram.error.log'),
      },
    ];
  },
};
