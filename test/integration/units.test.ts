/**
 * Every rendered service definition, checked by the tools that read them:
 * systemd-analyze verify on a temp copy carrying the real unit name, and
 * the plist package parsing each plist back to the values it was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as plist from 'plist';
import { bridges, findBridge } from '../../bridges/index.js';
import { kimaki } from '../../bridges/kimaki.js';
import { parseSystemdUnit, renderSystemdUnit } from '../../installer/render/units.js';
import { type ServiceSpec } from '../../installer/model/service.js';
import { caseDir, RENDER_CASES, renderCase, type RenderCase } from '../helpers/render-cases.js';
import { systemdReads } from '../helpers/systemd-reads.js';

describe('systemd-analyze verify', () => {
  // verify checks that ExecStart binaries exist, so the units are rendered
  // with stand-ins in a temp dir, and as root (a user that exists everywhere).
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'bridgectl-verify-'));
    mkdirSync(path.join(work, 'bin'));
    for (const name of bridges.flatMap((b) => [b.binaryName, ...(b.serviceBinaries ?? [])])) {
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

describe('values that need escaping, read back by systemd itself (#17 item 5)', () => {
  // The unit as rendered, loaded by systemd 252 (systemd --test dumps what it
  // parsed) and by parseSystemdUnit (what doctor and upgrade read): both must
  // give exactly the values bridgectl meant to write.
  const base = kimaki.services({
    serviceUser: 'root', uid: 0, gid: 0, home: '/root', dataDir: '/root/.kimaki',
    binary: '/usr/bin/true', binaries: { kimaki: '/usr/bin/true' }, site: '/var/www/html', init: 'systemd',
  })[0]!;
  const cases: [string, Partial<ServiceSpec>][] = [
    ['a site ending in a backslash (the Environment=HOME line after it must survive)', { workingDirectory: '/srv/ab\\' }],
    ['a site ending in a space, with % and a blank inside', { workingDirectory: '/srv/5% a ' }],
    ['a user name with % in it', { user: 'svc%i' }],
    ['env values with backslashes, quotes, %, $ and blanks', { systemdEnv: [['HOME', '/home/x\\'], ['Q', 'a"b\'c'], ['P', '50%n'], ['D', '$HOME ${X}'], ['T', ' lead trail ']] }],
    ['arguments with the same', { argv: ['/usr/bin/true', '--data-dir', '/root/a\\', '"{message}"', "'x'", '%n$X', ';', 'a b '] }],
  ];

  it.each(cases)('%s', (_what, over) => {
    const spec: ServiceSpec = { ...base, ...over };
    const text = renderSystemdUnit(spec);
    const systemd = systemdReads('kimaki.service', text);
    const intended = { user: spec.user, workingDirectory: spec.workingDirectory, env: spec.systemdEnv, argv: spec.argv };
    expect(systemd).toEqual({ ...intended, warnings: [] });
    expect(parseSystemdUnit(text)).toMatchObject(intended);
  });

  it('the helper does see a swallowed line (the unescaped form of the first case)', () => {
    const text = renderSystemdUnit(base).replace('WorkingDirectory=/var/www/html', 'WorkingDirectory=/srv/ab\\');
    const systemd = systemdReads('kimaki.service', text);
    expect(systemd.workingDirectory).toBe('/srv/ab Environment=HOME=/root');
    expect(parseSystemdUnit(text).workingDirectory).toBe(systemd.workingDirectory);
  });
});

describe('line breaks, blanks and headers where bridgectl\'s two unit readers once differed, read as systemd 252 reads them', () => {
  // One reader (unit-syntax.ts) serves parseSystemdUnit and the operator's
  // lines; each case is a unit where one of the old readers (or both) read
  // something other than systemd does. systemd --test is the judge.
  const unit = (service: string): string => `[Unit]\nDescription=x\n\n[Service]\nExecStart=/usr/bin/true\n${service}`;
  const cases: [string, string, { user?: string; workingDirectory?: string }][] = [
    ['a continuation at the end of a file with no final newline is read as it stands', unit('User=svc\nWorkingDirectory=/srv/a \\'), { user: 'svc', workingDirectory: '/srv/a' }],
    ['a lone CR ends a line', unit('User=svc\rWorkingDirectory=/srv/cr\n'), { user: 'svc', workingDirectory: '/srv/cr' }],
    ['a NUL ends a line', unit('User=svc\0WorkingDirectory=/srv/nul\n'), { user: 'svc', workingDirectory: '/srv/nul' }],
    ['a no-break space and a vertical tab are not blanks: they stay in the value', unit('User=svc\nWorkingDirectory=/srv/a\u00a0\v\n'), { user: 'svc', workingDirectory: '/srv/a\u00a0\v' }],
    ['an assignment before the first section is not read', `WorkingDirectory=/srv/early\n${unit('User=svc\n')}`, { user: 'svc' }],
  ];

  it.each(cases)('%s', (_what, text, expected) => {
    const systemd = systemdReads('x.service', text);
    // systemd's dump shows / for a WorkingDirectory= never set.
    expect({ user: systemd.user, workingDirectory: systemd.workingDirectory === '/' ? undefined : systemd.workingDirectory }).toEqual(expected);
    const ours = parseSystemdUnit(text);
    expect({ user: ours.user, workingDirectory: ours.workingDirectory }).toEqual(expected);
  });

  // systemd refuses the whole unit at a bad header (its dump then holds no
  // service settings); bridgectl reads what came before it, as systemd did
  // before it gave up, and nothing after, not even a later [Service].
  it.each([
    ['a header without its ]', '[X-Ops', /Invalid section header '\[X-Ops'/],
    ['a header with a quote in it', '[X-"Ops"]', /Bad characters in section header/],
  ])('%s ends the read', (_what, header, complaint) => {
    const text = unit(`User=svc\n${header}\nWorkingDirectory=/srv/x\n[Service]\nWorkingDirectory=/srv/y\n`);
    const systemd = systemdReads('x.service', text);
    expect(systemd.user).toBeUndefined();
    expect(systemd.warnings.join('\n')).toMatch(complaint);
    const ours = parseSystemdUnit(text);
    expect({ user: ours.user, workingDirectory: ours.workingDirectory }).toEqual({ user: 'svc', workingDirectory: undefined });
  });
});
