/**
 * A flagless upgrade or check reproduces what is installed (#17 item 11):
 * telegram's block pins no HOME, so on launchd its plists are found by
 * looking where bridgectl installs them, in every passwd user's home, not
 * only under the invoking user's HOME.
 */
import { runMain } from '../helpers/cli.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { SITE } from '../helpers/sandbox.js';
import { snapshot } from '../helpers/tree.js';

const TOKEN = '4242424242:AAadopt-test_token';

describe('telegram on launchd for a service user, then deploys with no flags', () => {
  it.each([
    ['no HOME', {}],
    ["root's HOME", { HOME: '/root' }],
  ])('%s: upgrade is a no-op and check is in sync', async (_what, env: Record<string, string>) => {
    const root = bridgeSandbox();
    const install = await runMain(['install', '--bridge', 'telegram', '--init', 'launchd', '--service-user', 'opencode', '--site', SITE, '--root', root], { TELEGRAM_BOT_TOKEN: TOKEN });
    expect(install).toMatchObject({ code: 0, stderr: '' });
    const installed = snapshot(root);

    const upgrade = await runMain(['upgrade', '--site', SITE, '--root', root], env);
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).not.toMatch(/^(create|update|remove|mkdir)/m);
    expect(snapshot(root)).toEqual(installed);

    const check = await runMain(['check', '--site', SITE, '--root', root], env);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('uninstall with no user flag finds them too', () => {
  it('removes the plists installed under the service user', async () => {
    const root = bridgeSandbox();
    const before = snapshot(root);
    await runMain(['install', '--bridge', 'telegram', '--init', 'launchd', '--service-user', 'opencode', '--site', SITE, '--root', root], { TELEGRAM_BOT_TOKEN: TOKEN });
    const r = await runMain(['uninstall', '--bridge', 'telegram', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    const after = snapshot(root);
    expect([...after.keys()].filter((p) => !before.has(p) && p.endsWith('.plist'))).toEqual([]);
  });
});
