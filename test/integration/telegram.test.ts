/**
 * The telegram bot token lives in one file — /etc/bridgectl/telegram.curl,
 * 0640 root:<web user's group> — and nowhere else bridgectl writes or
 * prints: not under the site, not in argv, not in any output (install,
 * upgrade, --dry-run, --json). The channel, read back by real PHP, carries
 * no token; run with its argv, curl gets the token from the file only.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TELEGRAM_CURL_CONFIG } from '../../bridges/telegram.js';
import { listBlocks } from '../../installer/render/markers.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runBin, runMain, type RunResult } from '../helpers/cli.js';
import { loadChannels } from '../helpers/php.js';
import { at, CHANNELS, isRoot, SITE } from '../helpers/sandbox.js';
import { filesContaining, snapshot } from '../helpers/tree.js';

const TOKEN = '5555555555:AAsecret-token_never_printed';
const ROTATED = '6666666666:BBrotated-token_never_printed';
const ENV_FILE = '/home/opencode/.config/opencode-telegram-bot/.env';
const FAKE_CURL = '/opt/fake/curl';
const install = ['install', '--bridge', 'telegram', '--site', SITE, '--service-user', 'opencode'];
const upgrade = ['upgrade', '--site', SITE];

/** A stand-in curl that reports its argv and the URL it would read from --config (resolved under FAKE_ROOT). */
const FAKE_CURL_SCRIPT = `#!${process.execPath}
const fs = require('fs');
const args = process.argv.slice(2);
const file = process.env.FAKE_ROOT + args[args.indexOf('--config') + 1];
const url = /^url = "([^"]*)"$/m.exec(fs.readFileSync(file, 'utf8'))[1];
process.stdout.write(JSON.stringify({ args, url }));
`;

function telegramSandbox(): string {
  return bridgeSandbox({ [FAKE_CURL.slice(1)]: { content: FAKE_CURL_SCRIPT, mode: 0o755 } });
}

function expectNoToken(results: RunResult[], ...tokens: string[]): void {
  for (const r of results) for (const t of tokens) expect(`${r.stdout}\n${r.stderr}`.includes(t)).toBe(false);
}

describe('telegram token handling', () => {
  it('never prints the token, even one given with surrounding whitespace (it is stored trimmed)', () => {
    const root = telegramSandbox();
    const r = runBin([...install, '--curl', FAKE_CURL, '--root', root, '--json'], { env: { TELEGRAM_BOT_TOKEN: ` ${TOKEN}  ` } });
    expect(r.code).toBe(0);
    expectNoToken([r], TOKEN);
    const doc = JSON.parse(r.stdout) as { files: { path: string; content: string | null }[] };
    expect(doc.files.find((f) => f.path === TELEGRAM_CURL_CONFIG)?.content).toBeNull();
    expect(filesContaining(root, TOKEN)).toEqual([TELEGRAM_CURL_CONFIG]);
  });

  it('keeps the token out of the site, argv and every output, in a 0640 file of the web group', () => {
    const root = telegramSandbox();
    const env = { TELEGRAM_BOT_TOKEN: TOKEN };
    const outputs = [
      runBin([...install, '--curl', FAKE_CURL, '--root', root, '--dry-run'], { env }),
      runBin([...install, '--curl', FAKE_CURL, '--root', root, '--dry-run', '--json'], { env }),
      runBin([...install, '--curl', FAKE_CURL, '--root', root], { env }),
      runBin([...upgrade, '--root', root], { env }),
      runBin([...upgrade, '--root', root, '--dry-run', '--json'], { env }),
      runBin([...upgrade, '--root', root, '--telegram-token', TOKEN, '--dry-run']),
    ];
    for (const r of outputs) expect(r.code).toBe(0);
    expect(outputs[0]?.stdout).toContain('(secret file: content not shown)');
    expectNoToken(outputs, TOKEN);

    // One file holds it: not the PHP, not a unit, nothing under the site.
    expect(filesContaining(root, TOKEN)).toEqual([TELEGRAM_CURL_CONFIG]);
    expect(filesContaining(at(root, SITE), TOKEN)).toEqual([]);
    const st = statSync(at(root, TELEGRAM_CURL_CONFIG));
    expect(st.mode & 0o7777).toBe(0o640);
    if (isRoot) expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: 0, gid: 33 }); // root:www-data, the pool's user
    expect(statSync(at(root, '/etc/bridgectl')).mode & 0o7777).toBe(0o755);

    // Real PHP reads the block back: a curl invocation with no token in it.
    const channels = loadChannels(at(root, CHANNELS));
    const telegram = channels.telegram;
    expect(telegram).toEqual({
      command: FAKE_CURL,
      args: ['-q', '--config', TELEGRAM_CURL_CONFIG, '-sS', '--fail', '--data-urlencode', 'chat_id={recipient}', '--data-urlencode', 'text={message}'],
      detach: false,
      timeout: 60,
    });
    expect(JSON.stringify(channels).includes(TOKEN)).toBe(false);

    // Spawned with that argv (placeholders filled), curl finds the token only in its config file.
    const argv = (telegram?.args ?? []).map((a) => a.replace('{recipient}', '12345').replace('{message}', 'hello & bye'));
    expect(argv.join(' ').includes(TOKEN)).toBe(false);
    const fake = spawnSync(at(root, FAKE_CURL), argv, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', FAKE_ROOT: root } });
    expect(fake.status).toBe(0);
    const seen = JSON.parse(fake.stdout) as { args: string[]; url: string };
    expect(seen.args.slice(0, 3)).toEqual(['-q', '--config', TELEGRAM_CURL_CONFIG]);
    expect(seen.url === `https://api.telegram.org/bot${TOKEN}/sendMessage`).toBe(true);
  });

  it('real curl accepts the config file (fails only at connecting) and does not print the token', () => {
    const root = telegramSandbox();
    const r = runBin([...install, '--root', root], { env: { TELEGRAM_BOT_TOKEN: TOKEN } });
    expect(r.code).toBe(0);
    const args = loadChannels(at(root, CHANNELS)).telegram?.args ?? [];
    const local = args.map((a) => (a === TELEGRAM_CURL_CONFIG ? at(root, a) : a.replace('{recipient}', '1').replace('{message}', 'x')));
    // Port 9 (discard) on loopback: refused, so nothing leaves the machine.
    const curl = spawnSync('curl', [...local, '--connect-to', 'api.telegram.org:443:127.0.0.1:9', '--max-time', '5'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(curl.error).toBeUndefined();
    expect(curl.status).toBe(7); // couldn't connect: the URL came from the file and parsed
    expectNoToken([{ code: 0, stdout: curl.stdout, stderr: curl.stderr }], TOKEN);
  });

  it('adopts the token from the bot\'s .env, rotates it on upgrade, and keeps it when given none', async () => {
    const root = telegramSandbox();
    mkdirSync(path.dirname(at(root, ENV_FILE)), { recursive: true });
    writeFileSync(at(root, ENV_FILE), `TELEGRAM_BOT_TOKEN=${TOKEN}\nTELEGRAM_ALLOWED_USER_ID=1\n`);
    const first = await runMain([...install, '--root', root], {});
    expect(first.code).toBe(0);
    expect(readFileSync(at(root, TELEGRAM_CURL_CONFIG), 'utf8')).toContain(TOKEN);

    // Rotated in the bot's .env: the next upgrade carries it over.
    writeFileSync(at(root, ENV_FILE), `TELEGRAM_BOT_TOKEN=${ROTATED}\n`);
    const rotated = await runMain([...upgrade, '--root', root, '--json'], {});
    expect(rotated.code).toBe(0);
    const doc = JSON.parse(rotated.stdout) as { notes: string[]; files: { path: string; status: string; diff: string }[] };
    expect(doc.files.find((f) => f.path === TELEGRAM_CURL_CONFIG)).toMatchObject({ status: 'update', diff: expect.stringContaining('(secret file: content not shown)') });
    expect(doc.notes.join('\n')).toMatch(/token in \/etc\/bridgectl\/telegram.curl is replaced by the one from \/home\/opencode/);
    expectNoToken([rotated], TOKEN, ROTATED);
    expect(readFileSync(at(root, TELEGRAM_CURL_CONFIG), 'utf8')).toContain(ROTATED);

    // No token anywhere but the installed file: kept, nothing written.
    rmSync(at(root, ENV_FILE));
    const kept = snapshot(root);
    const none = await runMain([...upgrade, '--root', root], {});
    expect(none.stdout).not.toMatch(/^(create|update|remove)/m);
    expect(snapshot(root)).toEqual(kept);
  });

  it('with no token: installs the services, writes no channel block, and says so', async () => {
    const root = telegramSandbox();
    const r = await runMain([...install, '--root', root], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/note: telegram: no telegram bot token \(looked at --telegram-token, env TELEGRAM_BOT_TOKEN, \/home\/opencode\/.config\/opencode-telegram-bot\/.env\); services written, no channel block\. To add one: /);
    // The note says how to add one: the flag, the environment variable, the bot's .env.
    expect(r.stdout).toContain(
      `To add one: bridgectl upgrade --site ${SITE} --telegram-token TOKEN; or TELEGRAM_BOT_TOKEN=TOKEN bridgectl upgrade --site ${SITE}; or put TELEGRAM_BOT_TOKEN=TOKEN in /home/opencode/.config/opencode-telegram-bot/.env and run bridgectl upgrade --site ${SITE}\n`,
    );
    expect(r.stdout).toMatch(/create +\/etc\/systemd\/system\/opencode-telegram.service/);
    const channels = snapshot(root).get(CHANNELS);
    expect(channels === undefined || listBlocks(channels.content).length === 0).toBe(true);
    expect(snapshot(root).has(TELEGRAM_CURL_CONFIG)).toBe(false);
  });

  it.each([
    ['--telegram-token', ['--telegram-token', 'not-a-token-but-secret'], {}],
    ['env', [], { TELEGRAM_BOT_TOKEN: 'not-a-token-but-secret' }],
  ])('a malformed token (%s) is refused without echoing it', async (_name, extra, env) => {
    const root = telegramSandbox();
    const r = await runMain([...install, ...extra, '--root', root], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/telegram bot token from .* is malformed: expected <digits>:<letters, digits, _ or ->/);
    expectNoToken([r], 'not-a-token-but-secret');
  });

  it('env WEB_USER names the web user for the token file, the sudo grant and doctor alike', async () => {
    const root = telegramSandbox(); // its PHP-FPM pool runs as www-data
    const env = { TELEGRAM_BOT_TOKEN: TOKEN, WEB_USER: 'ghost' };
    const r = await runMain([...install, '--curl', FAKE_CURL, '--root', root], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(web user ghost, from env WEB_USER)');
    if (isRoot) expect(statSync(at(root, TELEGRAM_CURL_CONFIG)).gid).toBe(1500);
    const sudo = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--dispatch', 'sudo', '--root', root], env);
    expect(sudo.code).toBe(0);
    expect(readFileSync(at(root, '/etc/sudoers.d/bridgectl-kimaki'), 'utf8')).toMatch(/^ghost ALL=\(opencode\)/m);
    const doctor = JSON.parse((await runMain(['doctor', '--site', SITE, '--root', root, '--json'], env)).stdout) as { webUser: { name: string; source: string } };
    expect(doctor.webUser).toMatchObject({ name: 'ghost', source: 'env' });
  });

  it('a web user missing from passwd is an error naming it', async () => {
    const root = telegramSandbox();
    const r = await runMain([...install, '--web-user', 'nginx', '--root', root], { TELEGRAM_BOT_TOKEN: TOKEN });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/web user 'nginx' \(from --web-user\) does not exist/);
  });

  (isRoot ? it : it.skip)('heals a drifted group on the token file', async () => {
    const root = telegramSandbox();
    await runMain([...install, '--root', root], { TELEGRAM_BOT_TOKEN: TOKEN });
    chownSync(at(root, TELEGRAM_CURL_CONFIG), 0, 0);
    const r = await runMain([...upgrade, '--root', root], {});
    expect(r.stdout).toMatch(/update +\/etc\/bridgectl\/telegram.curl/);
    expect(statSync(at(root, TELEGRAM_CURL_CONFIG)).gid).toBe(33);
    const again = await runMain([...upgrade, '--root', root], {});
    expect(again.stdout).toMatch(/unchanged +\/etc\/bridgectl\/telegram.curl/);
  });

  (isRoot ? it : it.skip)('gives a token file owned by another user back to root, as the sudo hop does', async () => {
    const root = telegramSandbox();
    await runMain([...install, '--root', root], { TELEGRAM_BOT_TOKEN: TOKEN });
    chownSync(at(root, TELEGRAM_CURL_CONFIG), 1500, 33);
    const check = await runMain(['check', '--site', SITE, '--root', root], {});
    expect(check.code).toBe(2);
    expect(check.stdout).toContain(`owner 1500:33 -> 0:33 ${TELEGRAM_CURL_CONFIG}`);
    const r = await runMain([...upgrade, '--root', root], {});
    expect(r.stdout).toMatch(/update +\/etc\/bridgectl\/telegram.curl/);
    expect(statSync(at(root, TELEGRAM_CURL_CONFIG))).toMatchObject({ uid: 0, gid: 33 });
    const again = await runMain([...upgrade, '--root', root], {});
    expect(again.stdout).toMatch(/unchanged +\/etc\/bridgectl\/telegram.curl/);
  });
});
