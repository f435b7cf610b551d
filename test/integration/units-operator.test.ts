/**
 * #17 item 7: lines an operator added to a managed unit or plist survive an
 * upgrade, in place, and the run says which (installer/render/operator-lines.ts).
 * Real systemd-analyze reads the result.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as plist from 'plist';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { at, SITE } from '../helpers/sandbox.js';

describe("an operator's own lines in a managed unit or plist are kept, and said (#17 item 7)", () => {
  const UNIT = '/etc/systemd/system/kimaki.service';
  const base = (root: string, ...extra: string[]): string[] => ['--site', SITE, '--root', root, '--no-reload', ...extra];
  const read = (root: string, p: string): string => readFileSync(at(root, p), 'utf8');
  const edit = (root: string, p: string, change: (text: string) => string): void => writeFileSync(at(root, p), change(read(root, p)));

  it('systemd: Nice=, LimitNOFILE=, MemoryMax=, a second EnvironmentFile= and a section of its own stay; the next run is a no-op', async () => {
    const root = bridgeSandbox();
    expect((await runMain(['install', '--bridge', 'kimaki', '--service-user', 'opencode', ...base(root)])).code).toBe(0);
    edit(root, UNIT, (t) =>
      t
        .replace('RestartSec=10\n', 'RestartSec=10\nNice=10\n# raised for big repositories\nLimitNOFILE=65536\nMemoryMax=2G\nEnvironmentFile=-/etc/default/kimaki\n')
        .replace('After=network.target\n', 'After=network.target\nWants=mariadb.service\n')
        .concat('\n[X-Ops]\nOwner=team-a\n'),
    );
    const edited = read(root, UNIT);

    const r = await runMain(['upgrade', ...base(root, '--binary', '/usr/bin/curl')]); // a change, so the unit is rewritten
    expect(r.code).toBe(0);
    const after = read(root, UNIT);
    expect(after).toContain('ExecStart=/usr/bin/curl ');
    for (const line of ['Nice=10', '# raised for big repositories\nLimitNOFILE=65536', 'MemoryMax=2G', 'EnvironmentFile=-/etc/default/kimaki', 'Wants=mariadb.service', '[X-Ops]\nOwner=team-a'])
      expect(after).toContain(line);
    expect(after.indexOf('Wants=')).toBeLessThan(after.indexOf('[Service]')); // in its own section
    expect(after.indexOf('MemoryMax=')).toBeLessThan(after.indexOf('[Install]'));
    expect(after).not.toBe(edited);
    expect(r.stdout).toContain(
      `note: ${UNIT}: kept the lines [Unit] Wants=; [Service] Nice=, LimitNOFILE=, MemoryMax=, EnvironmentFile=; [X-Ops] Owner= that bridgectl does not write (they stay in the unit, after its own lines)`,
    );

    const again = await runMain(['upgrade', ...base(root)]);
    expect(again.stdout).toContain(`unchanged ${UNIT}`);
    expect(again.stdout).not.toContain('note:');
    expect(read(root, UNIT)).toBe(after);
    expect((await runMain(['check', '--site', SITE, '--root', root])).code).toBe(0);

    // systemd reads it as intended: the kept lines are settings of the service.
    const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-kept-'));
    try {
      writeFileSync(path.join(dir, 'kimaki.service'), after.replace(/ExecStart=\S+/, 'ExecStart=/bin/true'));
      const v = spawnSync('systemd-analyze', ['verify', path.join(dir, 'kimaki.service')], { encoding: 'utf8' });
      if (v.error) throw new Error('systemd-analyze is missing: install Debian package "systemd"');
      expect(`${v.stdout}${v.stderr}`.replace(/.*(Unit|unit) .*not found.*\n?/g, '')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("systemd: an operator's value of a setting bridgectl manages is replaced, and the note says which and how to override it", async () => {
    const root = bridgeSandbox();
    await runMain(['install', '--bridge', 'kimaki', '--service-user', 'opencode', ...base(root)]);
    edit(root, UNIT, (t) => t.replace('RestartSec=10', '# slower\nRestartSec=30'));
    const r = await runMain(['upgrade', ...base(root)]);
    expect(read(root, UNIT)).toContain('RestartSec=10');
    expect(r.stdout).toContain(`note: ${UNIT}: replaced RestartSec=30 (now RestartSec=10), which bridgectl manages; to override it, use a drop-in (systemctl edit kimaki.service)`);
    expect(r.stdout).toContain(`note: ${UNIT}: dropped 1 comment line (only comments just above a kept line are kept)`);
  });

  it('systemd: a second EnvironmentFile= beside the one bridgectl writes (telegram) is kept once, bridgectl\'s stays once', async () => {
    const root = bridgeSandbox();
    const tg = ['--bridge', 'telegram', '--service-user', 'opencode', '--telegram-token', '5555555555:AAsecret-token_never_printed', '--curl', '/usr/bin/curl'];
    expect((await runMain(['install', ...tg, ...base(root)])).code).toBe(0);
    const file = '/etc/systemd/system/opencode-telegram.service';
    const ours = /^EnvironmentFile=.*$/m.exec(read(root, file))?.[0] as string;
    edit(root, file, (t) => t.replace(ours, `EnvironmentFile=-/etc/default/telegram-extra\n${ours}`));
    await runMain(['upgrade', ...base(root, '--binary', 'opencode-telegram=/usr/local/bin/opencode')]);
    const after = read(root, file);
    expect(after.split('\n').filter((l) => l.startsWith('EnvironmentFile='))).toEqual([ours, 'EnvironmentFile=-/etc/default/telegram-extra']);
    expect((await runMain(['upgrade', ...base(root)])).stdout).toContain(`unchanged ${file}`);
  });

  it('launchd: keys bridgectl does not write stay in the plist (nested values as written); the next run is a no-op', async () => {
    const root = bridgeSandbox();
    const plistPath = '/home/opencode/Library/LaunchAgents/com.wp.kimaki.plist';
    expect((await runMain(['install', '--bridge', 'kimaki', '--service-user', 'opencode', '--init', 'launchd', ...base(root)])).code).toBe(0);
    edit(root, plistPath, (t) =>
      t.replace(
        '    <key>KeepAlive</key>',
        '    <key>Nice</key>\n    <integer>5</integer>\n    <key>SoftResourceLimits</key>\n    <dict>\n        <key>NumberOfFiles</key>\n        <integer>65536</integer>\n    </dict>\n    <key>KeepAlive</key>',
      ),
    );
    const r = await runMain(['upgrade', ...base(root, '--binary', '/usr/bin/curl')]);
    expect(r.code).toBe(0);
    const parsed = plist.parse(read(root, plistPath)) as Record<string, unknown>;
    expect(parsed).toMatchObject({ Nice: 5, SoftResourceLimits: { NumberOfFiles: 65536 }, ProgramArguments: expect.arrayContaining(['/usr/bin/curl']) });
    expect(r.stdout).toContain(`note: ${plistPath}: kept the keys Nice, SoftResourceLimits that bridgectl does not write (they stay in the plist)`);
    const again = await runMain(['upgrade', ...base(root)]);
    expect(again.stdout).toContain(`unchanged ${plistPath}`);
  });
});
