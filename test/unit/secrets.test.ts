/**
 * Where telegram's token comes from, and the web user whose group may read
 * it — in memory, on a fake host. No assertion message may carry a token.
 */
import { readCurlConfig, renderCurlConfig, telegram, TELEGRAM_CURL_CONFIG } from '../../bridges/telegram.js';
import { planUninstall } from '../../installer/cli/commands/uninstall.js';
import { IdentityError, UsageError } from '../../installer/model/errors.js';
import type { Identity, IdentityFlags } from '../../installer/model/identity.js';
import { resolveSecret } from '../../installer/identity/secrets.js';
import { dotenvValue } from '../../installer/lib/dotenv.js';
import { fakeHost, type FakeHostSpec } from '../helpers/fake-host.js';
import { renderCase, SITE } from '../helpers/render-cases.js';

const ENV_FILE = '/home/chubes/.config/opencode-telegram-bot/.env';
const identity: Identity = {
  serviceUser: 'chubes',
  uid: 1000,
  gid: 1000,
  home: '/home/chubes',
  dataDir: '/home/chubes/.config/opencode-telegram-bot',
  binary: '/usr/bin/opencode-telegram',
  binaries: {},
  site: '/var/www/site',
  init: 'systemd',
};
const spec = telegram.secret!;

const FLAG = '111:flag-token_AAAA';
const ENV = '222:env-token_BBBB';
const DOTENV = '333:dotenv-token_CCCC';
const KEPT = '444:kept-token_DDDD';
const LEGACY = '555:legacy-token_EEEE';
const legacyBlock = `    $channels['telegram'] = [\n        'command' => '/usr/bin/curl',\n        'args'    => [ '-sS', '-X', 'POST', 'https://api.telegram.org/bot${LEGACY}/sendMessage', '--data-urlencode', 'chat_id={recipient}', '--data-urlencode', 'text={message}' ],\n    ];`;

function resolve(sources: { flag?: string; env?: string; dotenv?: string; kept?: string; legacy?: boolean }) {
  const files: FakeHostSpec['files'] = {};
  if (sources.dotenv !== undefined) files[ENV_FILE] = `TELEGRAM_ALLOWED_USER_ID=1\nTELEGRAM_BOT_TOKEN=${sources.dotenv}\n`;
  if (sources.kept !== undefined) files[TELEGRAM_CURL_CONFIG] = renderCurlConfig(sources.kept);
  const flags: IdentityFlags = sources.flag === undefined ? {} : { secrets: { '--telegram-token': sources.flag } };
  const host = fakeHost({ files, env: sources.env === undefined ? {} : { TELEGRAM_BOT_TOKEN: sources.env } });
  return resolveSecret(telegram, spec, flags, identity, host, sources.legacy ? legacyBlock : undefined);
}

describe('telegram token sources, in order', () => {
  const all = { flag: FLAG, env: ENV, dotenv: DOTENV, kept: KEPT, legacy: true };
  it.each([
    ['--telegram-token', all, FLAG, '--telegram-token'],
    ['env TELEGRAM_BOT_TOKEN', { ...all, flag: undefined }, ENV, 'env TELEGRAM_BOT_TOKEN'],
    ["the bot's .env", { dotenv: DOTENV, kept: KEPT, legacy: true }, DOTENV, ENV_FILE],
    ['the installed curl config', { kept: KEPT, legacy: true }, KEPT, TELEGRAM_CURL_CONFIG],
    ["a legacy block's URL", { legacy: true }, LEGACY, 'the installed channel block'],
    ['an empty .env value is no token', { dotenv: '', kept: KEPT }, KEPT, TELEGRAM_CURL_CONFIG],
  ] as const)('%s', (_name, sources, value, source) => {
    const r = resolve(sources);
    expect(r.value === value).toBe(true);
    expect(r.source).toBe(source);
  });

  it('no source: no value, nothing seen', () => {
    expect(resolve({})).toEqual({ seen: [], notes: [] });
  });

  it('every value seen is listed for redaction, and disagreements are notes that name sources only', () => {
    const r = resolve(all);
    expect(new Set(r.seen)).toEqual(new Set([FLAG, ENV, DOTENV, KEPT, LEGACY]));
    expect(r.notes.join('\n')).toMatch(/from --telegram-token differs from the one in env TELEGRAM_BOT_TOKEN/);
    expect(r.notes.join('\n')).toMatch(/in \/etc\/bridgectl\/telegram.curl is replaced by the one from --telegram-token/);
    expect(r.notes.join('\n')).toMatch(/moves out of the channel block/);
    for (const token of r.seen) expect(r.notes.join('\n').includes(token)).toBe(false);
  });

  it('the same token everywhere is not a disagreement', () => {
    expect(resolve({ dotenv: KEPT, kept: KEPT }).notes).toEqual([]);
  });

  it('a malformed flag is a usage error that does not echo it', () => {
    const bad = 'not a token but a secret 123';
    const run = () => resolve({ flag: bad });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/--telegram-token is malformed: expected <digits>:/);
    try {
      run();
    } catch (err) {
      expect(String((err as Error).message).includes(bad)).toBe(false);
    }
  });

  it('a malformed adopted token names its file, not its value', () => {
    const run = () => resolve({ dotenv: '"12 34"' });
    expect(run).toThrow(IdentityError);
    expect(run).toThrow(new RegExp(`from ${ENV_FILE} is malformed`));
  });
});

describe('file formats', () => {
  it('the curl config carries the URL with the token, and reads back', () => {
    const text = renderCurlConfig(KEPT);
    expect(text).toContain(`url = "https://api.telegram.org/bot${KEPT}/sendMessage"`);
    expect(readCurlConfig(text) === KEPT).toBe(true);
  });

  it.each([
    ['TELEGRAM_BOT_TOKEN=1:a', '1:a'],
    ['export TELEGRAM_BOT_TOKEN="1:a"', '1:a'],
    ["TELEGRAM_BOT_TOKEN='1:a'\r", '1:a'],
    ['TELEGRAM_BOT_TOKEN=1:a # comment', '1:a'],
    ['# TELEGRAM_BOT_TOKEN=1:a', undefined],
    ['TELEGRAM_BOT_TOKEN=1:a\nTELEGRAM_BOT_TOKEN=2:b', '2:b'],
  ])('dotenv %j', (text, value) => {
    expect(dotenvValue(text, 'TELEGRAM_BOT_TOKEN')).toBe(value);
  });
});

describe('the token file and the channel that points at it', () => {
  const CHANNELS = `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`;

  it('is committed before the channels file (a dispatch in between never meets a missing token file)', () => {
    const paths = renderCase({ bridge: 'telegram', init: 'systemd', who: 'user' }).changes.map((c) => c.path);
    expect(paths.indexOf(TELEGRAM_CURL_CONFIG)).toBeGreaterThanOrEqual(0);
    expect(paths.indexOf(TELEGRAM_CURL_CONFIG)).toBeLessThan(paths.indexOf(CHANNELS));
  });

  it('is removed after the channels file no longer points at it', () => {
    const installed = renderCase({ bridge: 'telegram', init: 'systemd', who: 'user' });
    const files = Object.fromEntries(installed.changes.filter((c) => c.after !== null).map((c) => [c.path, c.after as string]));
    const plan = planUninstall({ bridges: ['telegram'], site: SITE }, fakeHost({ files: { ...files, [SITE]: { kind: 'directory' } } }));
    const removed = plan.changes.filter((c) => c.status === 'remove' || c.status === 'update').map((c) => c.path);
    expect(removed.indexOf(CHANNELS)).toBeGreaterThanOrEqual(0);
    expect(removed.indexOf(TELEGRAM_CURL_CONFIG)).toBeGreaterThan(removed.indexOf(CHANNELS));
  });
});
