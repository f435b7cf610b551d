/**
 * A flagless upgrade or check reproduces what is installed (#17 item 11):
 * telegram's block pins no HOME, so on launchd its plists are found by
 * looking where bridgectl installs them: at last in the one passwd home
 * whose own user owns them, not only under the invoking user's HOME.
 */
import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { runMain } from '../helpers/cli.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { CHANNELS, isRoot, SITE } from '../helpers/sandbox.js';
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

/**
 * Any local user can write a plist into their own home. Searching every
 * passwd home must never let such a plant decide what root installs or
 * what the web user runs (review of #17 item 11's fix).
 */
describe('a plist planted in another user\'s home', () => {
  /** Copy what bridgectl installed under /home/opencode to /home/ghost, its program swapped for ghost's. */
  const plant = (root: string): string[] => {
    const from = `${root}/home/opencode/Library/LaunchAgents`;
    const to = `${root}/home/ghost/Library/LaunchAgents`;
    mkdirSync(to, { recursive: true });
    const planted = readdirSync(from).map((name) => {
      writeFileSync(`${to}/${name}`, readFileSync(`${from}/${name}`, 'utf8').replaceAll('/usr/local/bin/', '/home/ghost/evil/'));
      return `${to}/${name}`;
    });
    if (isRoot) for (const p of [`${root}/home/ghost`, `${root}/home/ghost/Library`, to, ...planted]) chownSync(p, 1500, 1500);
    return planted;
  };

  it('is never adopted by install', async () => {
    const launchd = bridgeSandbox();
    await runMain(['install', '--bridge', 'kimaki', '--init', 'launchd', '--service-user', 'opencode', '--site', SITE, '--root', launchd]);
    const root = bridgeSandbox();
    mkdirSync(`${root}/home/opencode/Library`, { recursive: true });
    cpSync(`${launchd}/home/opencode/Library`, `${root}/home/opencode/Library`, { recursive: true });
    plant(root);
    rmSync(`${root}/home/opencode/Library`, { recursive: true });
    const r = await runMain(['install', '--bridge', 'kimaki', '--service-user', 'opencode', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    expect(readFileSync(`${root}${CHANNELS}`, 'utf8')).not.toContain('/home/ghost');
    expect(existsSync(`${root}/home/ghost/Library/LaunchAgents/com.wp.kimaki.plist`)).toBe(true);
  });

  it('beside the service user\'s own: a flagless upgrade adopts neither and changes nothing', async () => {
    const root = bridgeSandbox();
    await runMain(['install', '--bridge', 'telegram', '--init', 'launchd', '--service-user', 'opencode', '--site', SITE, '--root', root], { TELEGRAM_BOT_TOKEN: TOKEN });
    plant(root);
    const before = snapshot(root);
    const r = await runMain(['upgrade', '--site', SITE, '--root', root]);
    expect(r.stdout + r.stderr).not.toContain('/home/ghost/evil');
    expect(r.code).not.toBe(0);
    expect(snapshot(root)).toEqual(before);
  });
});
