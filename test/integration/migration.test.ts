/**
 * Migration from the bash installer: its units (test/fixtures/reference-units,
 * byte-exact, user chubes, site /var/www/site) and its channel blocks (four
 * keys, no env; telegram's token in the URL) placed at their real paths,
 * then `upgrade`. The diff must be exactly the pins — HOME in the blocks of
 * the CLIs that use it, HOME in launchd plists that lacked it — and for
 * telegram the token's move out of the block into the curl config. Nothing
 * else.
 */
import { chownSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { renderScaffold } from '../../installer/render/channel.js';
import { spliceBlocks } from '../../installer/render/markers.js';
import { runMain } from '../helpers/cli.js';
import { isRoot, sandbox, SVC_GID, SVC_UID, wordpressSite } from '../helpers/sandbox.js';
import { filesContaining, snapshot } from '../helpers/tree.js';

const FIXTURES = path.resolve('test/fixtures/reference-units');
const SITE = '/var/www/site';
const CHANNELS = `${SITE}/wp-content/mu-plugins/wp-coding-agents-channels.php`;
const HOME = '/home/chubes';
const TOKEN = '7777777777:AAmigration_token-from-bash';
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

type Init = 'systemd' | 'launchd';

/** Where the bash installer put each reference unit. */
function unitPaths(init: Init): Record<string, string> {
  return init === 'systemd'
    ? {
        'kimaki-systemd': '/etc/systemd/system/kimaki.service',
        'cc-connect-systemd': '/etc/systemd/system/cc-connect.service',
        'telegram-serve-systemd': '/etc/systemd/system/opencode-serve.service',
        'telegram-bot-systemd': '/etc/systemd/system/opencode-telegram.service',
      }
    : {
        'kimaki-launchd': `${HOME}/Library/LaunchAgents/com.wp.kimaki.plist`,
        'cc-connect-launchd': `${HOME}/Library/LaunchAgents/com.wp.cc-connect.plist`,
        'telegram-serve-launchd': `${HOME}/Library/LaunchAgents/com.wp.opencode-serve.plist`,
        'telegram-bot-launchd': `${HOME}/Library/LaunchAgents/com.wp.opencode-telegram.plist`,
      };
}

/** A channel block body the way the bash installer rendered it (optionally with env). */
function block(name: string, command: string, args: string[], detach: boolean, timeout: number, env?: string): string[] {
  const list = `[ ${args.map((a) => `'${a}'`).join(', ')} ]`;
  return [
    `    $channels['${name}'] = [`,
    `        'command' => '${command}',`,
    `        'args'    => ${list},`,
    `        'detach'  => ${detach},`,
    `        'timeout' => ${timeout},`,
    ...(env ? [`        'env'     => ${env},`] : []),
    '    ];',
  ];
}

const channelsFile = (blocks: { id: string; body: string[] }[]): string => spliceBlocks(renderScaffold(), blocks);

describe.each(['systemd', 'launchd'] as const)('upgrading what the bash installer wrote (%s)', (init) => {
  const bin = init === 'systemd' ? '/usr/bin' : '/opt/homebrew/bin';
  const legacyTelegramArgs = ['-sS', '-X', 'POST', `https://api.telegram.org/bot${TOKEN}/sendMessage`, '--data-urlencode', 'chat_id={recipient}', '--data-urlencode', 'text={message}'];
  const legacy = channelsFile([
    { id: 'kimaki', body: block('kimaki', `${bin}/kimaki`, ['send', '--channel', '{recipient}', '--prompt', '{message}'], true, 600) },
    { id: 'cc-connect', body: block('cc-connect', `${bin}/cc-connect`, ['send', '--project', '{recipient}', '{message}'], true, 600) },
    { id: 'telegram', body: block('telegram', '/usr/bin/curl', legacyTelegramArgs, true, 60) },
  ]);
  const expected = channelsFile([
    { id: 'kimaki', body: block('kimaki', `${bin}/kimaki`, ['send', '--channel', '{recipient}', '--prompt', '{message}'], true, 600, `[ 'HOME' => '${HOME}', 'KIMAKI_DATA_DIR' => '${HOME}/.kimaki' ]`) },
    { id: 'cc-connect', body: block('cc-connect', `${bin}/cc-connect`, ['send', '--project', '{recipient}', '{message}'], true, 600, `[ 'HOME' => '${HOME}' ]`) },
    { id: 'telegram', body: block('telegram', '/usr/bin/curl', ['-q', '--config', '/etc/bridgectl/telegram.curl', '-sS', '--fail', '--data-urlencode', 'chat_id={recipient}', '--data-urlencode', 'text={message}'], false, 60) },
  ]);

  function bashInstalledRoot(): string {
    const tree: Record<string, string> = {
      'etc/passwd': `root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nchubes:x:${SVC_UID}:${SVC_GID}::${HOME}:/bin/bash\n`,
      'etc/group': `root:x:0:\nwww-data:x:33:\nchubes:x:${SVC_GID}:\n`,
      [CHANNELS.slice(1)]: legacy,
      // The bot's config, as the bash installer wrote it.
      [`${HOME}/.config/opencode-telegram-bot/.env`.slice(1)]: `TELEGRAM_BOT_TOKEN=${TOKEN}\nTELEGRAM_ALLOWED_USER_ID=42\nOPENCODE_API_URL=http://localhost:4096\n`,
    };
    for (const [name, server] of Object.entries(unitPaths(init))) tree[server.slice(1)] = fixture(name);
    const root = sandbox(tree);
    wordpressSite(root, SITE);
    mkdirSync(path.join(root, 'root'), { recursive: true });
    if (isRoot) chownSync(path.join(root, HOME), SVC_UID, SVC_GID);
    return root;
  }

  it('the diff is exactly the pins and the token move; a second upgrade is a no-op', async () => {
    const root = bashInstalledRoot();
    const before = snapshot(root);
    // A flagless deploy: systemd units name their User=; launchd plists are found under the invoking user's HOME.
    const env: Record<string, string> = init === 'launchd' ? { HOME } : {};

    // Listing the legacy blocks does not print the token either.
    const list = await runMain(['channel', 'list', '--site', SITE, '--root', root], {});
    const listJson = await runMain(['channel', 'list', '--site', SITE, '--root', root, '--json'], {});
    expect(list.stdout).toContain('https://api.telegram.org/bot<redacted>/sendMessage');

    const dry = await runMain(['upgrade', '--site', SITE, '--root', root, '--dry-run'], env);
    const json = await runMain(['upgrade', '--site', SITE, '--root', root, '--dry-run', '--json'], env);
    expect(snapshot(root)).toEqual(before);
    const up = await runMain(['upgrade', '--site', SITE, '--root', root], env);
    for (const r of [list, listJson, dry, json, up]) {
      expect(r.code).toBe(0);
      expect(`${r.stdout}${r.stderr}`.includes(TOKEN)).toBe(false);
    }
    expect(dry.stdout).toContain("-        'args'    => [ '-sS', '-X', 'POST', 'https://api.telegram.org/bot<redacted>/sendMessage'");
    expect(dry.stdout).toMatch(/telegram bot token moves out of the channel block into \/etc\/bridgectl\/telegram.curl/);

    const after = snapshot(root);
    // Units: unchanged, except the launchd plists that lacked HOME gain it (appended, as for kimaki).
    const homePin = `        <key>HOME</key>\n        <string>${HOME}</string>\n`;
    for (const [name, server] of Object.entries(unitPaths(init))) {
      const reference = fixture(name);
      const pinned = init === 'launchd' && !reference.includes('<key>HOME</key>') ? reference.replace(/( {4}<\/dict>\n<\/dict>\n<\/plist>\n)$/, `${homePin}$1`) : reference;
      expect(after.get(server)?.content).toBe(pinned);
    }
    // Channels: the blocks gain their HOME pins, telegram's token leaves the PHP file.
    expect(after.get(CHANNELS)?.content).toBe(expected);
    // The token moved: into the curl config (0640), nowhere new besides.
    expect(filesContaining(root, TOKEN)).toEqual([`${HOME}/.config/opencode-telegram-bot/.env`, '/etc/bridgectl/telegram.curl'].sort());
    expect(after.get('/etc/bridgectl/telegram.curl')?.mode).toBe(0o640);
    if (isRoot) expect(statSync(path.join(root, 'etc/bridgectl/telegram.curl')).gid).toBe(33);
    // Nothing else: the same files, plus the curl config, and the transport mu-plugin
    // (this fixture holds only what the bash installer's channel and unit code wrote).
    expect([...after.keys()].filter((p) => !before.has(p)).sort()).toEqual(['/etc/bridgectl/telegram.curl', '/var/www/site/wp-content/mu-plugins/wp-coding-agents-cli-transport.php']);
    for (const [p, f] of before) {
      if (p !== CHANNELS && !Object.values(unitPaths(init)).includes(p)) expect(after.get(p)).toEqual(f);
    }

    const again = await runMain(['upgrade', '--site', SITE, '--root', root], env);
    expect(again.stdout).not.toMatch(/^(create|update|remove|mkdir)/m);
    expect(snapshot(root)).toEqual(after);
  });
});
