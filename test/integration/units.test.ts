/**
 * Every rendered service definition, checked by the tools that read them:
 * systemd-analyze verify on a temp copy carrying the real unit name, and
 * the plist package parsing each plist back to the values it was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as plist from 'plist';
import { findBridge } from '../../bridges/index.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { caseDir, RENDER_CASES, renderCase, type RenderCase } from '../helpers/render-cases.js';
import { at, SITE } from '../helpers/sandbox.js';

describe('systemd-analyze verify', () => {
  // verify checks that ExecStart binaries exist, so the units are rendered
  // with stand-ins in a temp dir, and as root (a user that exists everywhere).
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'bridgectl-verify-'));
    mkdirSync(path.join(work, 'bin'));
    for (const name of ['kimaki', 'cc-connect', 'opencode', 'opencode-telegram']) {
      writeFileSync(path.join(work, 'bin', name), '#!/bin/sh\nexit 0\n');
      chmodSync(path.join(work, 'bin', name), 0o755);
    }
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const verify = (c: RenderCase, binDir: string): { status: number | null; output: string } => {
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.error) throw new Error('systemd-analyze is missing: install Debian package "systemd" (CI must, see .ci/run)');
    const units = renderCase(c, { binDir }).changes.filter((f) => f.path.startsWith('/etc/systemd/system/'));
    expect(units.length).toBe(findBridge(c.bridge)?.units.length);
    const dir = mkdtempSync(path.join(work, 'units-'));
    const files = units.map((u) => {
      const file = path.join(dir, path.posix.basename(u.path));
      writeFileSync(file, u.after ?? '');
      return file;
    });
    const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  const byDir = new Map(RENDER_CASES.filter((c) => c.init === 'systemd').map((c): [string, RenderCase] => [caseDir({ ...c, who: 'root' }), { ...c, who: 'root' }]));
  it.each([...byDir])('%s', (_dir, c) => {
    expect(verify(c, path.join(work, 'bin'))).toEqual({ status: 0, output: '' });
  });

  it('does complain when a unit is wrong (a missing ExecStart binary)', () => {
    const r = verify({ bridge: 'kimaki', init: 'systemd', who: 'root' }, path.join(work, 'missing'));
    expect(r.output).toMatch(/kimaki.*(not executable|No such file)/);
  });
});

describe('launchd plists parse back to their inputs', () => {
  const launchdCases = RENDER_CASES.filter((c) => c.init === 'launchd');
  // One more: values that need XML escaping.
  const odd: RenderCase = { bridge: 'kimaki', init: 'launchd', who: 'user', variant: 'escaping', flags: { dataDir: '/home/chubes/a&b <c> "d"' } };

  it.each([...launchdCases, odd].map((c) => [caseDir(c), c] as const))('%s', (_dir, c) => {
    const plan = renderCase(c);
    const bridge = findBridge(c.bridge);
    const identity = plan.identities[c.bridge];
    if (!bridge || !identity) throw new Error('no identity');
    const specs = bridge.services(identity);
    const plists = plan.changes.filter((f) => f.path.endsWith('.plist'));
    expect(plists.map((f) => path.posix.basename(f.path))).toEqual(specs.map((s) => `${s.label}.plist`));
    specs.forEach((spec, i) => {
      expect(plist.parse(plists[i]?.after ?? '')).toEqual({
        Label: spec.label,
        ProgramArguments: spec.argv,
        WorkingDirectory: spec.workingDirectory,
        KeepAlive: true,
        StandardOutPath: spec.stdoutPath,
        StandardErrorPath: spec.stderrPath,
        EnvironmentVariables: Object.fromEntries(spec.launchdEnv),
      });
    });
  });
});

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
