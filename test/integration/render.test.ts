/**
 * render: golden listings for a matrix of identities, byte for byte, from
 * the built bin; the same bytes twice and under another TZ/locale; the same
 * files install writes; and nothing read from the target.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { TELEGRAM_CURL_CONFIG } from '../../bridges/telegram.js';
import { SECRET_NOTICE } from '../../installer/report/diff.js';
import { ALL_BINARY_FLAGS, ALL_BRIDGE_FLAGS, ALL_UNITS, bridgeSandbox, SECRET_ENV } from '../helpers/bridge-sandbox.js';
import { runBin, runMain } from '../helpers/cli.js';
import { at, sandbox, serverSandbox, SITE } from '../helpers/sandbox.js';

const TOKEN = '7777777777:CCrender-token_never_printed';
/** Every bridge at once, each executable named as install finds it in bridgeSandbox. */
const ALL = [...ALL_BRIDGE_FLAGS, ...ALL_BINARY_FLAGS];
/** Every bridge's secret; telegram's is the one this file follows. */
const SECRETS = bridges.flatMap((b) => (b.secret ? [b.secret.flag, b.id === 'telegram' ? TOKEN : b.secret.sample] : []));

interface Case {
  name: string;
  args: string[];
}
const goldenDir = path.resolve('test/golden/render');
const cases = JSON.parse(readFileSync(path.join(goldenDir, 'cases.json'), 'utf8')) as Case[];

describe('render golden files (npm run golden:update rewrites them)', () => {
  it('has a golden file for every case and no stray ones', () => {
    const files = readdirSync(goldenDir).filter((f) => f.endsWith('.txt')).sort();
    expect(files).toEqual(cases.map((c) => `${c.name}.txt`).sort());
  });

  it.each(cases.map((c) => [c.name, c.args] as const))('%s', (name, args) => {
    const r = runBin(['render', ...args], { env: { TZ: 'UTC', LC_ALL: 'C' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.join(goldenDir, `${name}.txt`), 'utf8'));
  });
});

describe('render is deterministic', () => {
  const args = cases[3]?.args ?? [];
  const envs: Record<string, string>[] = [
    { TZ: 'UTC', LC_ALL: 'C', LANG: 'C' },
    { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' },
    { TZ: 'America/St_Johns', LANG: 'ja_JP.eucJP', LC_ALL: 'de_DE.UTF-8', SERVICE_USER: 'someone-else', KIMAKI_DATA_DIR: '/elsewhere', SITE_PATH: '/nope' },
  ];
  it('gives identical bytes twice and under other time zones, locales and environments', () => {
    for (const format of [[], ['--json']]) {
      const outputs = [...envs, envs[0] ?? {}].map((env) => runBin(['render', ...args, ...format], { env }));
      for (const o of outputs) expect(o.code).toBe(0);
      const first = outputs[0]?.stdout;
      expect(first).toBeTruthy();
      for (const o of outputs) expect(o.stdout).toBe(first);
    }
  });
});

describe('render reads nothing from the target', () => {
  it('needs no passwd entry, no site, no binary: identity comes from flags alone', async () => {
    const root = sandbox(); // empty: no /etc/passwd, no site, no kimaki
    const r = await runMain(['render', '--bridge', 'kimaki', '--site', '/nowhere', '--service-user', 'nobody-here', '--binary', '/opt/k/kimaki', '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("'HOME' => '/home/nobody-here'");
    expect(readdirSync(root)).toEqual([]);
  });

  it('does not adopt what is installed', async () => {
    const root = serverSandbox();
    const install = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root]);
    expect(install.code).toBe(0);
    const r = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/usr/bin/kimaki', '--root', root]);
    expect(r.stdout).toContain("'HOME' => '/root'");
    expect(r.stdout).not.toContain('opencode');
  });

  it.each([
    [['--site', SITE, '--binary', '/usr/bin/kimaki'], /--service-user NAME or --run-as-root/],
    [['--site', SITE, '--binary', '/usr/bin/kimaki', '--service-user', 'a', '--run-as-root'], /contradict/],
    [['--service-user', 'a', '--binary', '/usr/bin/kimaki'], /--site/],
    [['--service-user', 'a', '--site', SITE], /--binary/],
    [['--service-user', 'a', '--site', SITE, '--binary', 'kimaki'], /absolute/],
    [['--service-user', 'a', '--site', SITE, '--binary', '/k', '--home', 'rel'], /--home must be an absolute path/],
  ])('refuses incomplete identity %j', async (args, message) => {
    const r = await runMain(['render', '--bridge', 'kimaki', ...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

describe('render with several bridges, and telegram', () => {
  const args = ['render', ...ALL, '--site', SITE, '--service-user', 'opencode', ...SECRETS];

  it('parses --binary as install does: NAME=PATH per executable; a bare PATH is one bridge\'s CLI only', async () => {
    const twice = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/a/kimaki', '--binary', '/b/kimaki']);
    expect(twice).toMatchObject({ code: 1, stdout: '' });
    expect(twice.stderr).toMatch(/--binary PATH given twice/);
    const shared = await runMain(['render', '--bridge', 'kimaki', '--bridge', 'cc-connect', '--site', SITE, '--run-as-root', '--binary', '/usr/bin/kimaki']);
    expect(shared.code).toBe(1);
    expect(shared.stderr).toMatch(/--binary PATH names one bridge's CLI/);
  });

  it('never prints the token: the token file is listed with its content omitted, and --json has no content for it', async () => {
    const listing = await runMain(args);
    expect(listing).toMatchObject({ code: 0, stderr: '' });
    expect(listing.stdout).toContain(`==> ${TELEGRAM_CURL_CONFIG} <==\n${SECRET_NOTICE}\n`);
    expect(listing.stdout).toContain(`'--config', '${TELEGRAM_CURL_CONFIG}'`); // the channel that points at it
    const json = await runMain([...args, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { files: { path: string; content: string | null; owner?: unknown }[] };
    expect(doc.files.find((f) => f.path === TELEGRAM_CURL_CONFIG)).toMatchObject({ content: null });
    expect(doc.files.some((f) => f.owner !== undefined)).toBe(false); // render resolves no owners
    for (const r of [listing, json]) expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN.split(':')[1]);
  });

  it('--out writes exactly what install writes for every bridge, the token file 0640 included', async () => {
    const root = bridgeSandbox();
    const install = await runMain(['install', ...ALL_BRIDGE_FLAGS, '--site', SITE, '--service-user', 'opencode', '--root', root], { ...SECRET_ENV, TELEGRAM_BOT_TOKEN: TOKEN });
    expect(install.code).toBe(0);
    const out = sandbox();
    const r = await runMain([...args, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(TOKEN);
    const written = r.stdout.trim().split('\n').map((line) => line.replace(`wrote ${out}`, ''));
    // The channels file and the transport, every unit, every secret file.
    expect(written).toHaveLength(2 + ALL_UNITS.length + bridges.filter((b) => b.secret).length);
    for (const file of written) expect(readFileSync(at(out, file), 'utf8')).toBe(readFileSync(at(root, file), 'utf8'));
    expect(statSync(at(out, TELEGRAM_CURL_CONFIG)).mode & 0o777).toBe(0o640);
  });
});

describe('render --out', () => {
  it('writes nothing with --dry-run', async () => {
    const out = sandbox();
    const r = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/usr/bin/kimaki', '--out', out, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would write ${at(out, '/etc/systemd/system/kimaki.service')}`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('writes exactly the files install writes for the same identity, at their server paths', async () => {
    const root = serverSandbox();
    const install = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root]);
    expect(install.code).toBe(0);
    const out = sandbox();
    const r = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--binary', '/usr/local/bin/kimaki', '--out', out]);
    expect(r.code).toBe(0);
    const files = ['/var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php', '/etc/systemd/system/kimaki.service'];
    for (const file of files) {
      expect(r.stdout).toContain(at(out, file));
      expect(readFileSync(at(out, file), 'utf8')).toBe(readFileSync(at(root, file), 'utf8'));
      expect(statSync(at(out, file)).mode & 0o777).toBe(0o644);
    }
    // The listing holds the same bytes.
    const listing = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--binary', '/usr/local/bin/kimaki']);
    for (const file of files) expect(listing.stdout).toContain(`==> ${file} <==\n${readFileSync(at(out, file), 'utf8')}`);
  });

  it('creates --out itself (and its missing parents, 0755) when it does not exist yet', async () => {
    const out = at(sandbox(), '/build/out');
    const old = process.umask(0o077);
    let r;
    try {
      r = await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/usr/bin/kimaki', '--out', out]);
    } finally {
      process.umask(old);
    }
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(at(out, '/etc/systemd/system/kimaki.service'), 'utf8')).toContain('ExecStart=');
    for (const dir of [path.dirname(out), out, at(out, '/etc/systemd')]) expect(statSync(dir).mode & 0o777).toBe(0o755);
  });
});
