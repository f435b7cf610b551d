/**
 * --dispatch sudo in a sandbox root: what install, upgrade and uninstall
 * plan and write, on any machine. (Running the hop for real is
 * test/sudo/live.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan, visudoValidator } from '../../installer/apply/apply.js';
import { planInstall } from '../../installer/cli/commands/install.js';
import { planUpgrade } from '../../installer/cli/commands/upgrade.js';
import { UserError } from '../../installer/model/errors.js';
import { nodeHost } from '../../installer/facts/host.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { findVisudo, VISUDO_PATHS } from '../../installer/lib/sudo-paths.js';
import { runnerOf } from '../../installer/process/run.js';
import { runBin, runMain } from '../helpers/cli.js';
import { at, CHANNELS, isRoot, sandbox, serverSandbox, SITE } from '../helpers/sandbox.js';
import { entries } from '../helpers/tree.js';

const HOP = hopPaths('kimaki');
const ROOT_OWNED = { uid: 0, gid: 0 };

const install = (root: string, ...extra: string[]) =>
  runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--root', root, ...extra]);
const upgrade = (root: string, ...extra: string[]) => runMain(['upgrade', '--site', SITE, '--root', root, ...extra]);
const read = (root: string, p: string): string => readFileSync(at(root, p), 'utf8');
const mode = (root: string, p: string): number => statSync(at(root, p)).mode & 0o7777;

interface JsonFile {
  path: string;
  status: string;
  mode: string;
  owner?: { uid: number; gid: number };
  diff: string;
}
const json = (stdout: string): { files: JsonFile[]; notes: string[]; directories: { path: string; mode: string; uid: number }[] } => JSON.parse(stdout);


const visudo = findVisudo(undefined, existsSync);
if (process.env.CI && !visudo) {
  throw new Error('CI: visudo is required for the sudo dispatch tests (apt-get install sudo)');
}

const TRANSPORT = '/var/www/html/wp-content/mu-plugins/wp-coding-agents-cli-transport.php';

describe('install --dispatch sudo', () => {
  it('#16.8: accepts telegram in the set, as upgrade does: telegram stays direct, with a note', async () => {
    const { bridgeSandbox } = await import('../helpers/bridge-sandbox.js');
    for (const set of [['telegram'], ['kimaki', 'telegram']]) {
      const root = bridgeSandbox();
      const bridges = set.flatMap((b) => ['--bridge', b]);
      const r = await runMain(['install', ...bridges, '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--dispatch', 'sudo', '--root', root, '--json'], { TELEGRAM_BOT_TOKEN: '123:abc' });
      expect([set, r.code]).toEqual([set, 0]);
      expect(json(r.stdout).notes).toContain('telegram: has no sudo dispatch mode; it stays direct');
      const channels = read(root, CHANNELS);
      expect(channels).toContain("'command' => '/usr/bin/curl'");
      expect(existsSync(at(root, hopPaths('telegram').wrapper))).toBe(false);
      if (set.includes('kimaki')) expect(channels).toContain(`'command' => '${HOP.wrapper}'`);
    }
  });

  it('plans the three hop files before the channels file, root-owned, with their modes, and the drop-in validated', async () => {
    const root = serverSandbox();
    const r = await install(root, '--dispatch', 'sudo', '--json', '--dry-run');
    expect(r.stderr).toBe('');
    const doc = json(r.stdout);
    expect(doc.files.map((f) => [f.path, f.status, f.mode, f.owner])).toEqual([
      [HOP.sudoers, 'create', '0440', ROOT_OWNED],
      [HOP.target, 'create', '0755', ROOT_OWNED],
      [HOP.wrapper, 'create', '0755', ROOT_OWNED],
      [CHANNELS, 'create', '0644', undefined],
      [TRANSPORT, 'create', '0644', undefined],
    ]);
    expect(doc.directories).toContainEqual({ path: '/usr/local/lib/bridgectl', status: 'create', mode: '0755', uid: 0, gid: 0 });
    expect(existsSync(at(root, HOP.sudoers))).toBe(false); // dry run
    const plan = planInstall({ bridges: ['kimaki'], site: SITE, serviceUser: 'opencode', init: 'none', dispatch: { dispatch: 'sudo' } }, nodeHost(root, {}));
    expect(plan.changes.map((c) => c.validate)).toEqual(['sudoers', undefined, undefined, undefined, undefined]);
  });

  it('writes them, and points the channel at the wrapper with HOME and the data dir still pinned', async () => {
    const root = serverSandbox();
    const r = await install(root, '--dispatch', 'sudo');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^create +\/etc\/sudoers.d\/bridgectl-kimaki$/m);
    expect(mode(root, HOP.sudoers)).toBe(0o440);
    expect(mode(root, HOP.target)).toBe(0o755);
    expect(mode(root, HOP.wrapper)).toBe(0o755);
    expect(mode(root, '/usr/local/lib/bridgectl')).toBe(0o755);
    if (isRoot) for (const p of Object.values(HOP)) expect(statSync(at(root, p))).toMatchObject(ROOT_OWNED);
    const channels = read(root, CHANNELS);
    expect(channels).toContain(`'command' => '${HOP.wrapper}',`);
    expect(channels).toContain(`'args'    => [ 'send', '--channel', '{recipient}', '--prompt', '{message}' ],`);
    expect(channels).toContain(`'env'     => [ 'HOME' => '/home/opencode', 'KIMAKI_DATA_DIR' => '/home/opencode/.kimaki' ],`);
    expect(read(root, HOP.sudoers)).toContain('www-data ALL=(opencode) NOPASSWD: /usr/local/lib/bridgectl/kimaki-dispatch-target ^send [0-9]+$\n');
    expect(read(root, HOP.target)).toContain("CLI='/usr/local/bin/kimaki'\n");
  });

  it('shows the three files as diffs on --dry-run', async () => {
    const root = serverSandbox();
    const r = await install(root, '--dispatch', 'sudo', '--dry-run');
    for (const p of Object.values(HOP)) expect(r.stdout).toContain(`+++ b${p}`);
    expect(r.stdout).toContain('+www-data ALL=(opencode) NOPASSWD:');
    expect(r.stdout).toMatch(/dry run: nothing was written\n$/);
  });

  it('passes visudo -cf in both grant forms', async () => {
    if (!visudo) return; // not on this machine; CI fails above instead
    for (const form of ['--sudo-regex', '--no-sudo-regex']) {
      const root = serverSandbox();
      expect((await install(root, '--dispatch', 'sudo', form, '--web-user', 'www-data', '--web-user', 'ghost')).code).toBe(0);
      const r = spawnSync(visudo, ['-c', '-f', at(root, HOP.sudoers)], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toMatch(/parsed OK/);
      expect(r.status).toBe(0);
    }
  });

  it('uses wildcards plus a negated entry with --no-sudo-regex', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo', '--no-sudo-regex');
    expect(read(root, HOP.sudoers)).toContain(`NOPASSWD: ${HOP.target} send [0-9]*, !${HOP.target} send ?*[!0-9]*\n`);
  });

  it('refuses a web user that does not exist, or that is the service user', async () => {
    const root = serverSandbox();
    const missing = await install(root, '--dispatch', 'sudo', '--web-user', 'nginx');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/web user 'nginx' does not exist/);
    const same = await install(root, '--dispatch', 'sudo', '--web-user', 'opencode');
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/the web user opencode is the service user/);
    expect(existsSync(at(root, HOP.sudoers))).toBe(false);
  });

  it('is the default only when asked: plain install stays direct and writes no hop', async () => {
    const root = serverSandbox();
    await install(root);
    expect(read(root, CHANNELS)).toContain("'command' => '/usr/local/bin/kimaki',");
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(false);
  });
});

describe('upgrade in sudo mode', () => {
  it('twice is a no-op: everything unchanged, nothing rewritten', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    const before = entries(root);
    for (let i = 0; i < 2; i++) {
      const r = await upgrade(root, '--json');
      expect(r.code).toBe(0);
      expect(json(r.stdout).files.map((f) => f.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
      expect(json(r.stdout).notes).toEqual([]);
    }
    expect(entries(root)).toEqual(before);
  });

  it('adopts the installed mode, web users and grant form without flags', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo', '--web-user', 'ghost', '--no-sudo-regex');
    const before = entries(root);
    expect((await install(root)).code).toBe(0); // no --dispatch, --web-user, --sudo-regex
    expect((await upgrade(root)).code).toBe(0);
    expect(entries(root)).toEqual(before);
  });

  it('adopts the CLI from the target when the channel runs the wrapper (no unit to read it from)', async () => {
    const root = serverSandbox({ 'opt/kimaki/bin/kimaki': { content: '#!/bin/sh\n', mode: 0o755 } });
    await install(root, '--dispatch', 'sudo', '--binary', '/opt/kimaki/bin/kimaki');
    expect(read(root, HOP.target)).toContain("CLI='/opt/kimaki/bin/kimaki'\n");
    const r = await upgrade(root, '--json');
    expect(json(r.stdout).files.every((f) => f.status === 'unchanged')).toBe(true);
  });

  it('keeps a non-root-owned CLI directory off the dispatch PATH, and says so', async () => {
    const root = serverSandbox({ 'opt/kimaki/bin/kimaki': { content: '#!/bin/sh\n', mode: 0o755 } });
    if (isRoot) chownSync(at(root, '/opt/kimaki/bin'), 1001, 1001);
    const r = await install(root, '--dispatch', 'sudo', '--binary', '/opt/kimaki/bin/kimaki', '--json');
    expect(json(r.stdout).notes).toContain('kimaki: /opt/kimaki/bin is not a root-owned directory, so the dispatch target leaves it off PATH (kimaki still runs by its full path)');
    expect(read(root, HOP.target)).toContain("'PATH=/usr/local/bin:/usr/bin:/bin'");
  });

  it('rewrites a hop file that drifted, byte for byte, and heals its mode', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    const target = read(root, HOP.target);
    writeFileSync(at(root, HOP.target), target.replace("'send' '--channel'", "'send' \"$@\" '--channel'"));
    chmodSync(at(root, HOP.wrapper), 0o777);
    const dry = await upgrade(root, '--dry-run');
    expect(dry.stdout).toMatch(/^update +\/usr\/local\/lib\/bridgectl\/kimaki-dispatch-target$/m);
    expect(dry.stdout).toContain(`mode 0777 -> 0755 ${HOP.wrapper}`);
    expect((await upgrade(root)).code).toBe(0);
    expect(read(root, HOP.target)).toBe(target);
    expect(mode(root, HOP.wrapper)).toBe(0o755);
  });

  (isRoot ? it : it.skip)('gives a hop file back to root when someone else owns it', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    chownSync(at(root, HOP.target), 1001, 1001);
    const dry = await upgrade(root, '--dry-run');
    expect(dry.stdout).toContain(`owner 1001:1001 -> 0:0 ${HOP.target}`);
    await upgrade(root);
    expect(statSync(at(root, HOP.target))).toMatchObject(ROOT_OWNED);
    expect(json((await upgrade(root, '--json')).stdout).files.every((f) => f.status === 'unchanged')).toBe(true);
  });

  it('switches only on a flag, with a note: sudo → direct removes the hop, direct → sudo brings it back', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    const toDirect = await upgrade(root, '--dispatch', 'direct', '--json');
    const doc = json(toDirect.stdout);
    expect(doc.notes).toContain('kimaki: dispatch changes from sudo to direct: the wrapper, target helper and sudoers grant are removed');
    // The channel stops using the wrapper before the wrapper goes.
    expect(doc.files.map((f) => [f.path, f.status])).toEqual([
      [CHANNELS, 'update'],
      [TRANSPORT, 'unchanged'],
      [HOP.sudoers, 'remove'],
      [HOP.target, 'remove'],
      [HOP.wrapper, 'remove'],
    ]);
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(false);
    expect(read(root, CHANNELS)).toContain("'command' => '/usr/local/bin/kimaki',");
    expect(json((await upgrade(root, '--json')).stdout).notes).toEqual([]);

    const toSudo = await upgrade(root, '--dispatch', 'sudo', '--json');
    expect(json(toSudo.stdout).notes).toContain(`kimaki: dispatch changes from direct to sudo: the channel now runs ${HOP.wrapper}`);
    expect(read(root, CHANNELS)).toContain(`'command' => '${HOP.wrapper}',`);
  });

  it('notes a change of web users or grant form', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    const r = await upgrade(root, '--web-user', 'www-data', '--web-user', 'ghost', '--no-sudo-regex', '--json');
    expect(json(r.stdout).notes).toEqual([
      'kimaki: the sudo grant\'s users change from www-data to www-data, ghost',
      'kimaki: the sudo grant changes from regex to wildcard matching',
    ]);
    expect(read(root, HOP.sudoers)).toContain('www-data, ghost ALL=(opencode)');
  });
});

describe('a hand-edited grant', () => {
  it('is narrowed again for the same users when it was widened', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo', '--web-user', 'ghost');
    const good = read(root, HOP.sudoers);
    chmodSync(at(root, HOP.sudoers), 0o640);
    writeFileSync(at(root, HOP.sudoers), good.replace(/NOPASSWD: .*$/m, 'NOPASSWD: ALL'));
    expect((await upgrade(root)).code).toBe(0);
    expect(read(root, HOP.sudoers)).toBe(good);
    expect(mode(root, HOP.sudoers)).toBe(0o440);
  });

  it('widened to `<target> *` does not decide the form: upgrade restores its own regex grant, and says a foreign one was replaced', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    const good = read(root, HOP.sudoers);
    expect(good).toContain(' ^send [0-9]+$\n');
    chmodSync(at(root, HOP.sudoers), 0o640);
    writeFileSync(at(root, HOP.sudoers), `www-data ALL=(opencode) NOPASSWD: ${HOP.target} *\n`);
    const r = await upgrade(root, '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout).notes).toContain(
      "kimaki: /etc/sudoers.d/bridgectl-kimaki is not a grant bridgectl wrote (edited by hand, or by another version): it is replaced with bridgectl's own, in the regex form",
    );
    expect(read(root, HOP.sudoers)).toBe(good);
    expect(json((await upgrade(root, '--json')).stdout).notes).toEqual([]);
  });

  it('that names no users stops upgrade until --web-user says whom it is for', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo', '--web-user', 'ghost');
    chmodSync(at(root, HOP.sudoers), 0o640);
    writeFileSync(at(root, HOP.sudoers), '# emptied by hand\n');
    const r = await upgrade(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot read which users /etc/sudoers.d/bridgectl-kimaki grants (it is not in bridgectl's format)");
    expect(r.stderr).toContain('fix: pass --web-user');
    expect((await upgrade(root, '--web-user', 'ghost')).code).toBe(0);
    expect(read(root, HOP.sudoers)).toContain('ghost ALL=(opencode) NOPASSWD:');
  });
});

/** #17 item 1, end to end with real ownership (chown needs root; the same rules on fake owners: test/unit/sudo-owners.test.ts). */
(isRoot ? describe : describe.skip)('a hop someone other than root could change is refused', () => {
  const reviewer = (root: string, ...extra: string[]) =>
    runMain(['install', '--bridge', 'kimaki', '--run-as-root', '--dispatch', 'sudo', '--web-user', 'www-data', '--binary', '/var/www/bin/kimaki', '--site', SITE, '--init', 'none', '--root', root, ...extra]);
  const withCli = (): string => {
    const root = serverSandbox({ 'var/www/bin/kimaki': { content: '#!/bin/sh\n', mode: 0o755 } });
    chownSync(at(root, '/var/www/bin/kimaki'), 33, 33);
    return root;
  };

  it("the reviewer's install: --run-as-root with a CLI www-data owns exits 1, names the path and its owner, and writes nothing", async () => {
    const root = withCli();
    const before = entries(root);
    const r = await reviewer(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'bridgectl: kimaki: refusing the sudo hop: /var/www/bin/kimaki is owned by www-data (uid 33), so www-data could change the kimaki CLI, which the hop runs as root\n' +
        '  fix: install kimaki where only root can write it (e.g. /usr/local/bin) and pass --binary, or: chown root:root /var/www/bin/kimaki && chmod go-w /var/www/bin/kimaki\n',
    );
    expect(entries(root)).toEqual(before);
    chownSync(at(root, '/var/www/bin/kimaki'), 0, 0);
    expect((await reviewer(root)).code).toBe(0);
  });

  it('follows a symlinked CLI to the real file and its directories', async () => {
    const root = withCli();
    chownSync(at(root, '/var/www/bin/kimaki'), 0, 0);
    chownSync(at(root, '/var/www/bin'), 33, 33);
    rmSync(at(root, '/usr/local/bin/kimaki'));
    symlinkSync('../../../var/www/bin/kimaki', at(root, '/usr/local/bin/kimaki'));
    const r = await install(root, '--dispatch', 'sudo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/var/www/bin is owned by www-data (uid 33), so www-data could change the kimaki CLI /usr/local/bin/kimaki, which the hop runs as opencode');
  });

  it('a /usr/local/lib/bridgectl another user already owns', async () => {
    const root = serverSandbox();
    mkdirSync(at(root, '/usr/local/lib/bridgectl'), { recursive: true });
    chownSync(at(root, '/usr/local/lib/bridgectl'), 33, 33);
    const before = entries(root);
    const r = await install(root, '--dispatch', 'sudo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/usr/local/lib/bridgectl is owned by www-data (uid 33), so www-data could change the dispatch target /usr/local/lib/bridgectl/kimaki-dispatch-target, which sudo runs as opencode');
    expect(entries(root)).toEqual(before);
  });

  it('upgrade refuses too, once the CLI is handed to www-data after install; doctor fails it; --dispatch direct is still possible', async () => {
    const root = withCli();
    chownSync(at(root, '/var/www/bin/kimaki'), 0, 0);
    expect((await reviewer(root)).code).toBe(0);
    chownSync(at(root, '/var/www/bin/kimaki'), 33, 33);
    const before = entries(root);
    const up = await upgrade(root);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('/var/www/bin/kimaki is owned by www-data (uid 33)');
    expect(entries(root)).toEqual(before);
    const doctor = await runMain(['doctor', '--site', SITE, '--root', root, '--json']);
    expect(doctor.code).not.toBe(0);
    const checks = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string; message: string }[] }).checks;
    expect(checks.find((c) => c.id === 'channel.kimaki.sudo.cli')).toMatchObject({ status: 'fail', message: expect.stringContaining('/var/www/bin/kimaki is owned by www-data (uid 33)') });
    expect((await upgrade(root, '--dispatch', 'direct')).code).toBe(0);
  });
});

describe('uninstall', () => {
  it('removes the three hop files and nothing else (but the transport, with the last channel)', async () => {
    const root = serverSandbox({ 'usr/local/bin/other-tool': '#!/bin/sh\n', 'etc/sudoers.d/README': 'keep me\n' });
    await install(root, '--dispatch', 'sudo');
    const before = entries(root);
    const r = await runMain(['uninstall', '--bridge', 'kimaki', '--site', SITE, '--root', root, '--json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout).files.map((f) => [f.path, f.status])).toEqual([
      [CHANNELS, 'update'],
      [TRANSPORT, 'remove'],
      [HOP.sudoers, 'remove'],
      [HOP.target, 'remove'],
      [HOP.wrapper, 'remove'],
    ]);
    const after = entries(root);
    const gone = [...before.keys()].filter((k) => !after.has(k));
    const changed = [...after.keys()].filter((k) => before.get(k) !== after.get(k));
    expect(gone.sort()).toEqual([...Object.values(HOP), TRANSPORT].map((p) => p.slice(1)).sort());
    expect(changed).toEqual([CHANNELS.slice(1)]);
    expect(after.has('usr/local/lib/bridgectl/')).toBe(true);
  });
});

describe('the drop-in is validated before it is renamed into place', () => {
  const fakeVisudo = (dir: string): string => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'visudo'), '#!/bin/sh\necho ">>> $3: syntax error near line 1 <<<" >&2\nexit 1\n', { mode: 0o755 });
    return dir;
  };

  it('a visudo planted on PATH is never used: only the fixed system paths are', async () => {
    const root = serverSandbox();
    const bin = at(sandbox(), '/bin');
    mkdirSync(bin, { recursive: true });
    const marker = path.join(bin, 'ran');
    // A stand-in that would pass anything (exit 0), and leaves a mark when run.
    writeFileSync(path.join(bin, 'visudo'), `#!/bin/sh\ntouch ${marker}\nexit 0\n`, { mode: 0o755 });
    const r = runBin(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--dispatch', 'sudo', '--root', root], {
      env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    // In process too: the default lookup asks only VISUDO_PATHS, whatever PATH says.
    const asked: string[] = [];
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved ?? ''}`;
    try {
      visudoValidator(
        runnerOf((file) => {
          asked.push(file);
          return { status: 0, stdout: '', stderr: '' };
        }),
      )('/x/.tmp', HOP.sudoers, '/sandbox');
    } finally {
      process.env.PATH = saved;
    }
    expect(asked).toEqual(VISUDO_PATHS.filter((p) => existsSync(p)).slice(0, 1));
  });

  it('a refused drop-in never replaces the installed one, and nothing else is written (a refusing visudo)', async () => {
    const root = serverSandbox();
    await install(root, '--dispatch', 'sudo');
    const before = entries(root);
    const refusing = path.join(fakeVisudo(at(sandbox(), '/bin')), 'visudo');
    const plan = planUpgrade({ site: SITE, dispatch: { webUsers: ['ghost'] } }, nodeHost(root, {}));
    const apply = (): Promise<unknown> => applyPlan(plan, root, { validators: { sudoers: visudoValidator(undefined, () => refusing) } });
    await expect(apply()).rejects.toThrow('/etc/sudoers.d/bridgectl-kimaki: visudo -cf refused the new drop-in, so it was not installed');
    await expect(apply()).rejects.toThrow('>>> /etc/sudoers.d/bridgectl-kimaki: syntax error'); // the temp file's name is not leaked
    expect(readdirSync(at(root, '/etc/sudoers.d'))).toEqual(['bridgectl-kimaki']); // no temp file left
    expect(entries(root)).toEqual(before);
  });

  it('a refused first install leaves no drop-in at all (injected validator)', async () => {
    const root = serverSandbox();
    const plan = planInstall({ bridges: ['kimaki'], site: SITE, serviceUser: 'opencode', init: 'none', dispatch: { dispatch: 'sudo' } }, nodeHost(root, {}));
    const seen: string[] = [];
    const refuse = (temp: string): string | undefined => {
      seen.push(readFileSync(temp, 'utf8'));
      expect(path.basename(temp)).toMatch(/^\.bridgectl-kimaki\..*\.tmp$/); // a name @includedir skips
      expect(statSync(temp).mode & 0o777).toBe(0o440); // checked as it would be installed
      throw new UserError('refused');
    };
    await expect(applyPlan(plan, root, { validators: { sudoers: refuse } })).rejects.toThrow('refused');
    expect(seen).toEqual([plan.changes[0]?.after]);
    expect(existsSync(at(root, '/etc/sudoers.d'))).toBe(false); // nor the directory staging made for it (#17 item 12)
    expect(existsSync(at(root, HOP.target))).toBe(false); // the drop-in goes first, so nothing followed it
    expect(existsSync(at(root, CHANNELS))).toBe(false);
  });

  it('without visudo: refused on the live host, a note under a sandbox root', () => {
    const validate = visudoValidator(undefined, () => undefined);
    expect(() => validate('/x/.tmp', '/etc/sudoers.d/bridgectl-kimaki', '/')).toThrow(/visudo is not installed/);
    expect(validate('/x/.tmp', '/etc/sudoers.d/bridgectl-kimaki', '/sandbox')).toMatch(/not checked with visudo -cf/);
  });
});

describe('cc-connect in sudo mode', () => {
  const CC = hopPaths('cc-connect');
  const ccRoot = (): string => serverSandbox({ 'usr/local/bin/cc-connect': { content: '#!/bin/sh\nexit 0\n', mode: 0o755 } });
  const installCc = (root: string, ...extra: string[]) =>
    runMain(['install', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--root', root, '--dispatch', 'sudo', ...extra]);

  it('writes its three files and points the channel at its wrapper, argv and HOME as in direct mode', async () => {
    const root = ccRoot();
    const r = await installCc(root, '--json');
    expect(r.stderr).toBe('');
    expect(json(r.stdout).files.map((f) => [f.path, f.status, f.mode])).toEqual([
      [CC.sudoers, 'create', '0440'],
      [CC.target, 'create', '0755'],
      [CC.wrapper, 'create', '0755'],
      [CHANNELS, 'create', '0644'],
      [TRANSPORT, 'create', '0644'],
    ]);
    expect(CC).toEqual({
      target: '/usr/local/lib/bridgectl/cc-connect-dispatch-target',
      wrapper: '/usr/local/bin/bridgectl-cc-connect-dispatch',
      sudoers: '/etc/sudoers.d/bridgectl-cc-connect',
    });
    const channels = read(root, CHANNELS);
    expect(channels).toContain(`'command' => '${CC.wrapper}',`);
    expect(channels).toContain(`'args'    => [ 'send', '--project', '{recipient}', '{message}' ],`);
    expect(channels).toContain(`'env'     => [ 'HOME' => '/home/opencode' ],`);
    expect(read(root, CC.sudoers)).toContain(`www-data ALL=(opencode) NOPASSWD: ${CC.target} ^send [A-Za-z0-9][A-Za-z0-9_.-]*$\n`);
    const target = read(root, CC.target);
    expect(target).toContain("CLI='/usr/local/bin/cc-connect'\n");
    expect(target).toContain("DATA_DIR='/home/opencode/.cc-connect'\n");
    expect(target).toContain(`"$CLI" 'send' '--project' "$recipient" '--message' "$message"\n`);
  });

  it('carries a data dir other than the default as --data-dir in the channel and the target alike', async () => {
    const root = ccRoot();
    expect((await installCc(root, '--data-dir', '/srv/cc')).code).toBe(0);
    expect(read(root, CHANNELS)).toContain(`'args'    => [ 'send', '--data-dir', '/srv/cc', '--project', '{recipient}', '{message}' ],`);
    expect(read(root, CC.target)).toContain(`"$CLI" 'send' '--data-dir' '/srv/cc' '--project' "$recipient" '--message' "$message"\n`);
    expect(read(root, CC.wrapper)).toContain(`[ "\${3}" = '/srv/cc' ]`);
    // upgrade adopts the data dir from the channel's args and changes nothing
    const up = await upgrade(root, '--json');
    expect(json(up.stdout).files.map((f) => f.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(json(up.stdout).notes).toEqual([]);
  });

  it('passes visudo -cf in both grant forms, the wildcard one refusing any later character outside the set', async () => {
    for (const form of ['--sudo-regex', '--no-sudo-regex']) {
      const root = ccRoot();
      expect((await installCc(root, form)).code).toBe(0);
      if (form === '--no-sudo-regex') expect(read(root, CC.sudoers)).toContain(`NOPASSWD: ${CC.target} send [A-Za-z0-9]*, !${CC.target} send ?*[!A-Za-z0-9_.-]*\n`);
      if (!visudo) continue; // not on this machine; CI fails above instead
      const r = spawnSync(visudo, ['-c', '-f', at(root, CC.sudoers)], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toMatch(/parsed OK/);
      expect(r.status).toBe(0);
    }
  });

  it('sits beside kimaki\'s hop: two bridges, six files, upgrade a no-op, uninstall removes only its own', async () => {
    const root = ccRoot();
    await install(root, '--dispatch', 'sudo');
    await installCc(root);
    const up = await upgrade(root, '--json');
    expect(json(up.stdout).files.filter((f) => f.status !== 'unchanged')).toEqual([]);
    expect(json(up.stdout).files.map((f) => f.path)).toEqual(expect.arrayContaining([...Object.values(HOP), ...Object.values(CC)]));
    const r = await runMain(['uninstall', '--bridge', 'cc-connect', '--site', SITE, '--root', root]);
    expect(r.code).toBe(0);
    for (const p of Object.values(CC)) expect(existsSync(at(root, p))).toBe(false);
    for (const p of Object.values(HOP)) expect(existsSync(at(root, p))).toBe(true);
    expect(read(root, CHANNELS)).toContain(`'command' => '${HOP.wrapper}',`);
  });

  it('switches from direct with upgrade --dispatch sudo, and back', async () => {
    const root = ccRoot();
    expect((await runMain(['install', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--init', 'none', '--root', root])).code).toBe(0);
    expect(read(root, CHANNELS)).toContain("'command' => '/usr/local/bin/cc-connect',");
    const toSudo = await upgrade(root, '--dispatch', 'sudo', '--json');
    expect(json(toSudo.stdout).notes).toContain(`cc-connect: dispatch changes from direct to sudo: the channel now runs ${CC.wrapper}`);
    expect(read(root, CHANNELS)).toContain(`'command' => '${CC.wrapper}',`);
    expect(read(root, CC.target)).toContain("CLI='/usr/local/bin/cc-connect'\n");
    await upgrade(root, '--dispatch', 'direct');
    expect(read(root, CHANNELS)).toContain("'command' => '/usr/local/bin/cc-connect',");
    for (const p of Object.values(CC)) expect(existsSync(at(root, p))).toBe(false);
  });
});
