/**
 * #17 item 3: a unit or plist that an operator keeps at 0600 because it
 * holds a secret (Environment=TELEGRAM_BOT_TOKEN=…, which upgrade keeps)
 * must not come out of a rewrite 0644 with the secret still inside.
 * bridgectl never widens the mode of a unit or plist it rewrites, and says so.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { at, SITE } from '../helpers/sandbox.js';

const TOKEN = '5555555555:AAsecret-token_never_printed';
const mode = (root: string, p: string): number => statSync(at(root, p)).mode & 0o7777;

async function install(root: string, ...extra: string[]): Promise<void> {
  const r = await runMain(['install', '--bridge', 'telegram', '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload', ...extra], { TELEGRAM_BOT_TOKEN: TOKEN });
  expect({ code: r.code, stderr: r.stderr.replace(/^note: .*\n/gm, '') }).toEqual({ code: 0, stderr: '' });
}

const upgrade = (root: string, ...extra: string[]) => runMain(['upgrade', '--site', SITE, '--root', root, '--no-reload', ...extra]);

describe('a unit or plist holding a kept secret keeps its narrow mode', () => {
  const UNIT = '/etc/systemd/system/opencode-telegram.service';

  it('systemd: a 0600 unit with the token in Environment= stays 0600 when upgrade rewrites it, and the run says so', async () => {
    const root = bridgeSandbox();
    await install(root);
    // The operator's own hardening: the token in the unit, the unit 0600; and an edit upgrade will undo (so it rewrites the file).
    const text = readFileSync(at(root, UNIT), 'utf8');
    writeFileSync(at(root, UNIT), text.replace('[Service]\n', `[Service]\nEnvironment=TELEGRAM_BOT_TOKEN=${TOKEN}\n`).replace(/^Restart=.*$/m, 'Restart=no'));
    chmodSync(at(root, UNIT), 0o600);

    const r = await upgrade(root);

    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`update    ${UNIT}`);
    const after = readFileSync(at(root, UNIT), 'utf8');
    expect(after).toContain(`Environment=TELEGRAM_BOT_TOKEN=${TOKEN}`); // kept, as before
    expect(after).not.toContain('Restart=no'); // and really rewritten
    expect(mode(root, UNIT)).toBe(0o600);
    expect(r.stdout).toContain(`${UNIT}: kept its mode 0600 (bridgectl never widens the mode of a unit or plist it rewrites; it holds TELEGRAM_BOT_TOKEN)`);
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);

    // And a no-op run leaves it so, without a word.
    const again = await upgrade(root);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('kept its mode');
    expect(mode(root, UNIT)).toBe(0o600);
  });

  it('launchd: a 0600 plist with the token in EnvironmentVariables stays 0600', async () => {
    const root = bridgeSandbox();
    await install(root, '--init', 'launchd');
    const PLIST = '/home/opencode/Library/LaunchAgents/com.wp.opencode-telegram.plist';
    const text = readFileSync(at(root, PLIST), 'utf8');
    expect(text).toContain('<key>EnvironmentVariables</key>\n    <dict>\n');
    writeFileSync(at(root, PLIST), text.replace('<key>EnvironmentVariables</key>\n    <dict>\n', `<key>EnvironmentVariables</key>\n    <dict>\n      <key>TELEGRAM_BOT_TOKEN</key>\n      <string>${TOKEN}</string>\n`).replace('<true/>', '<false/>'));
    chmodSync(at(root, PLIST), 0o600);

    const r = await upgrade(root, '--init', 'launchd', '--service-user', 'opencode');

    expect(r.code).toBe(0);
    expect(readFileSync(at(root, PLIST), 'utf8')).toContain(`<string>${TOKEN}</string>`);
    expect(mode(root, PLIST)).toBe(0o600);
    expect(r.stdout).toContain(`${PLIST}: kept its mode 0600`);
  });

  it('a unit wider than 0644 (group- or world-writable) is narrowed to 0644', async () => {
    const root = bridgeSandbox();
    await install(root);
    chmodSync(at(root, UNIT), 0o666);
    const r = await upgrade(root);
    expect(r.code).toBe(0);
    expect(mode(root, UNIT)).toBe(0o644);
  });
});
