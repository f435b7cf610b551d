/**
 * Each bridge end to end in a sandbox root, for root and non-root service
 * users on systemd and launchd: install, the same HOME in block and units,
 * upgrades that are no-ops (bytes and mtime), an operator's env line kept,
 * and an uninstall that removes exactly what install added.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { bridgeIds, bridges, findBridge } from '../../bridges/index.js';
import { envValue, parseChannelBody } from '../../installer/render/channel.js';
import { listBlocks } from '../../installer/render/markers.js';
import { parseService, serviceFile } from '../../installer/render/units.js';
import { runMain } from '../helpers/cli.js';
import { ALL_BRIDGE_FLAGS, bridgeSandbox, SECRET_ENV } from '../helpers/bridge-sandbox.js';
import { at, CHANNELS, SITE } from '../helpers/sandbox.js';
import { snapshot } from '../helpers/tree.js';

const WHO = {
  root: { flags: ['--run-as-root'], user: 'root', home: '/root' },
  user: { flags: ['--service-user', 'opencode'], user: 'opencode', home: '/home/opencode' },
} as const;

const cases = bridges.flatMap((b) =>
  (['systemd', 'launchd'] as const).flatMap((init) => (['root', 'user'] as const).map((who) => [b.id, init, who] as const)),
);

describe.each(cases)('%s on %s, %s service user', (id, init, who) => {
  const bridge = findBridge(id);
  if (!bridge) throw new Error(id);
  const { flags, user, home } = WHO[who];
  const env = SECRET_ENV;
  const pinsHome = bridge.channelFacts.pins?.includes('HOME') === true;
  const base = ['--site', SITE, ...flags, '--init', init];
  const unitPaths = bridge.units.map((u) => serviceFile(init, u, home));

  it('installs, keeps one HOME everywhere, upgrades as a no-op, keeps operator env, uninstalls cleanly', async () => {
    const root = bridgeSandbox();
    const before = snapshot(root);

    const install = await runMain(['install', '--bridge', id, ...base, '--root', root], env);
    expect(install).toMatchObject({ code: 0, stderr: '' });

    // The channel block and every unit carry the same HOME: the service user's.
    const channelsText = readFileSync(at(root, CHANNELS), 'utf8');
    const block = listBlocks(channelsText).find((b) => b.id === id);
    const spec = block && parseChannelBody(block.body);
    if (!spec) throw new Error('no channel block');
    if (pinsHome) expect(envValue(spec, 'HOME')).toBe(home);
    else expect(spec.env).toEqual([]); // e.g. telegram's curl reads nothing under HOME (-q): historical four-key block
    for (const unit of unitPaths) {
      const parsed = parseService(init, readFileSync(at(root, unit), 'utf8'));
      expect(parsed.env.find(([k]) => k === 'HOME')?.[1]).toBe(home);
      if (init === 'systemd') expect(parsed.user).toBe(user);
    }

    // Deploys run upgrade with no flags: it adopts what is installed and changes nothing.
    // A block that pins no HOME (telegram's): its plists are found under the invoking user's HOME (as on macOS).
    const runEnv = init === 'launchd' && !pinsHome ? { HOME: home } : {};
    const installed = snapshot(root);
    for (let i = 0; i < 2; i++) {
      const upgrade = await runMain(['upgrade', '--site', SITE, '--root', root], runEnv);
      expect(upgrade.code).toBe(0);
      expect(upgrade.stdout).not.toMatch(/^(create|update|remove|mkdir)/m);
      expect(snapshot(root)).toEqual(installed);
    }

    // An operator's own env entry survives upgrade, and the next upgrade is again a no-op.
    const unit = at(root, unitPaths[0] ?? '');
    const text = readFileSync(unit, 'utf8');
    const edited =
      init === 'systemd'
        ? text.replace(/^(ExecStart=)/m, 'Environment=OPERATOR_KEY=kept\n$1')
        : text.replace(/(\n {4}<\/dict>\n<\/dict>)/, '\n        <key>OPERATOR_KEY</key>\n        <string>kept</string>$1');
    expect(edited).not.toBe(text);
    writeFileSync(unit, edited);
    await runMain(['upgrade', '--site', SITE, '--root', root], runEnv);
    expect(parseService(init, readFileSync(unit, 'utf8')).env).toContainEqual(['OPERATOR_KEY', 'kept']);
    const kept = snapshot(root);
    await runMain(['upgrade', '--site', SITE, '--root', root], runEnv);
    expect(snapshot(root)).toEqual(kept);

    // Uninstall removes the units, the block (and telegram's token file); everything else stays.
    const uninstall = await runMain(['uninstall', '--bridge', id, '--site', SITE, '--root', root], runEnv);
    expect(uninstall.code).toBe(0);
    const after = snapshot(root);
    const added = [...after.keys()].filter((p) => !before.has(p));
    expect(added).toEqual([CHANNELS]);
    expect(listBlocks(after.get(CHANNELS)?.content ?? '')).toEqual([]);
    expect([...before.keys()].filter((p) => !after.has(p))).toEqual([]);
    for (const [p, f] of before) expect(after.get(p)?.content).toBe(f.content);
  });
});

describe('several bridges in one run', () => {
  it('installs every bridge in one plan, and upgrade re-renders every installed bridge', async () => {
    const root = bridgeSandbox();
    const r = await runMain(['install', ...ALL_BRIDGE_FLAGS, '--site', SITE, '--service-user', 'opencode', '--root', root, '--json'], SECRET_ENV);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { identities: Record<string, { home: string }>; files: { path: string; status: string }[] };
    expect(Object.keys(doc.identities)).toEqual(bridgeIds);
    expect(doc.files.filter((f) => f.path === CHANNELS)).toHaveLength(1); // one write of the shared file
    expect(listBlocks(readFileSync(at(root, CHANNELS), 'utf8')).map((b) => b.id)).toEqual(bridgeIds);

    const up = await runMain(['upgrade', '--site', SITE, '--root', root, '--json'], {});
    const upDoc = JSON.parse(up.stdout) as { identities: Record<string, unknown>; files: { status: string }[] };
    expect(Object.keys(upDoc.identities)).toEqual(bridgeIds);
    expect(upDoc.files.every((f) => f.status === 'unchanged')).toBe(true);
  });

  it.each([
    [['--data-dir', '/srv/x'], /--data-dir names one bridge's data dir, and this run covers kimaki, cc-connect/],
    [['--binary', '/usr/local/bin/kimaki'], /--binary PATH names one bridge's CLI/],
    [['--binary', 'nope=/x'], /no bridge in this run \(kimaki, cc-connect\) runs an executable named 'nope'/],
  ])('refuses a per-bridge flag %j that would leak into every bridge', async (extra, message) => {
    const root = bridgeSandbox();
    const r = await runMain(['install', '--bridge', 'kimaki', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', ...extra, '--root', root], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it('--binary NAME=PATH reaches the bridge that runs NAME', async () => {
    const root = bridgeSandbox({ 'opt/cc/cc-connect': { content: '#!/bin/sh\n', mode: 0o755 } });
    const r = await runMain(['install', '--bridge', 'kimaki', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--binary', 'cc-connect=/opt/cc/cc-connect', '--root', root, '--json'], {});
    const doc = JSON.parse(r.stdout) as { identities: Record<string, { binary: string }> };
    expect(doc.identities['cc-connect']?.binary).toBe('/opt/cc/cc-connect');
    expect(doc.identities.kimaki?.binary).toBe('/usr/local/bin/kimaki');
  });
});

describe('cc-connect data dir', () => {
  it('a non-default data dir reaches both the send and the daemon, and upgrade adopts it', async () => {
    const root = bridgeSandbox();
    await runMain(['install', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--root', root], { CC_DATA_DIR: '/home/opencode/cc' });
    const spec = parseChannelBody(listBlocks(readFileSync(at(root, CHANNELS), 'utf8'))[0]?.body ?? []);
    expect(spec?.args).toEqual(['send', '--data-dir', '/home/opencode/cc', '--project', '{recipient}', '{message}']);
    expect(spec?.env).toEqual([['HOME', '/home/opencode']]);
    const unit = parseService('systemd', readFileSync(at(root, '/etc/systemd/system/cc-connect.service'), 'utf8'));
    expect(unit.argv).toEqual(['/usr/local/bin/cc-connect', '--data-dir', '/home/opencode/cc']);
    const installed = snapshot(root);
    expect((await runMain(['upgrade', '--site', SITE, '--root', root], {})).code).toBe(0);
    expect(snapshot(root)).toEqual(installed);
  });
});

describe('a mistyped executable is an error, not a unit that never starts (#19 item 4)', () => {
  const install = (root: string, ...extra: string[]) =>
    runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', ...extra, '--root', root], {});

  it('install --binary /usr/local/bin/nokimaki: exit 1, names it, writes nothing', async () => {
    const root = bridgeSandbox();
    const before = snapshot(root);
    const r = await install(root, '--binary', '/usr/local/bin/nokimaki');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `bridgectl: --binary /usr/local/bin/nokimaki: /usr/local/bin/nokimaki does not exist under --root ${root}\n` +
        '  fix: check the path (install the program first), or pass --allow-missing-binary if it will be there before the bridge runs\n',
    );
    expect(snapshot(root)).toEqual(before);
  });

  it('--allow-missing-binary pins it anyway', async () => {
    const root = bridgeSandbox();
    const r = await install(root, '--binary', '/opt/later/kimaki', '--allow-missing-binary');
    expect(r.code).toBe(0);
    expect(readFileSync(at(root, '/etc/systemd/system/kimaki.service'), 'utf8')).toContain('/opt/later/kimaki');
  });

  it('channel set --command behaves the same: refused, or a note with --allow-missing-binary', async () => {
    const root = bridgeSandbox();
    const set = (...extra: string[]) => runMain(['channel', 'set', 'notify', '--site', SITE, '--command', '/usr/local/bin/nonotify', ...extra, '--root', root], {});
    const refused = await set();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^bridgectl: --command \/usr\/local\/bin\/nonotify: \/usr\/local\/bin\/nonotify does not exist under --root /);
    expect(existsSync(at(root, CHANNELS))).toBe(false);
    const forced = await set('--allow-missing-binary');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/note: channel notify: \/usr\/local\/bin\/nonotify is not an executable file under --root .*; dispatch will fail until it is/);
  });
});
