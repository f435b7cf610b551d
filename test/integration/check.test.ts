/**
 * check: 0 in sync, 2 drift (with a unified diff), 1 error — and it never writes.
 */
import { readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { runMain } from '../helpers/cli.js';
import { at, CHANNELS, serverSandbox, SITE } from '../helpers/sandbox.js';

const UNIT = '/etc/systemd/system/kimaki.service';

async function installedSite(): Promise<string> {
  const root = serverSandbox();
  const r = await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root]);
  expect(r.code).toBe(0);
  return root;
}

const check = (root: string, ...extra: string[]) => runMain(['check', '--site', SITE, '--root', root, ...extra]);

function edit(root: string, file: string, change: (text: string) => string): void {
  const text = readFileSync(at(root, file), 'utf8');
  const next = change(text);
  expect(next).not.toBe(text);
  writeFileSync(at(root, file), next);
}

const TRANSPORT = '/var/www/html/wp-content/mu-plugins/wp-coding-agents-cli-transport.php';

describe('check', () => {
  it('exits 0 when the site is in sync', async () => {
    const root = await installedSite();
    const r = await check(root);
    expect(r).toEqual({ code: 0, stdout: 'in sync: 3 managed file(s) match what upgrade would write\n', stderr: '' });
  });

  it('exits 2 with a diff when a managed block was hand-edited', async () => {
    const root = await installedSite();
    edit(root, CHANNELS, (t) => t.replace("'timeout' => 600", "'timeout' => 5"));
    const before = readFileSync(at(root, CHANNELS), 'utf8');
    const r = await check(root);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`--- a${CHANNELS}\n+++ b${CHANNELS}\n`);
    expect(r.stdout).toContain("-        'timeout' => 5,\n+        'timeout' => 600,\n");
    expect(r.stdout).toMatch(/drift: 1 of 3 managed file\(s\) differ/);
    expect(readFileSync(at(root, CHANNELS), 'utf8')).toBe(before); // never writes
  });

  it('exits 2 when the unit was hand-edited', async () => {
    const root = await installedSite();
    edit(root, UNIT, (t) => t.replace('Restart=always', 'Restart=no'));
    const r = await check(root);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`--- a${UNIT}`);
    expect(r.stdout).toContain('-Restart=no\n+Restart=always\n');
  });

  it('exits 2 when the unit pins another data dir than the block (upgrade adopts the unit and rewrites the block)', async () => {
    const root = await installedSite();
    edit(root, UNIT, (t) => t.replace('Environment=KIMAKI_DATA_DIR=/home/opencode/.kimaki', 'Environment=KIMAKI_DATA_DIR=/home/opencode/state'));
    const r = await check(root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/note: kimaki: the installed unit and channel block disagree on KIMAKI_DATA_DIR/);
    expect(r.stdout).toContain("+        'env'     => [ 'HOME' => '/home/opencode', 'KIMAKI_DATA_DIR' => '/home/opencode/state' ],");
  });

  it('exits 2 when a managed file is missing', async () => {
    const root = await installedSite();
    rmSync(at(root, CHANNELS));
    const r = await check(root);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`--- /dev/null\n+++ b${CHANNELS}`);
    expect(r.stdout).toMatch(/\(1 missing\)/);
  });

  it('exits 2 when only a mode drifted', async () => {
    const root = await installedSite();
    chmodSync(at(root, CHANNELS), 0o600);
    const r = await check(root);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`mode 0600 -> 0644 ${CHANNELS}`);
  });

  it('exits 1 when the markers are damaged, naming the line', async () => {
    const root = await installedSite();
    edit(root, CHANNELS, (t) => t.replace('    // END bridge:kimaki\n', ''));
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`${CHANNELS}:\\d+: .*bridge:kimaki`));
  });

  it('exits 1 when nothing is installed', async () => {
    const root = serverSandbox();
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing to upgrade/);
  });

  it('--quiet prints nothing; the exit code says it all', async () => {
    const root = await installedSite();
    edit(root, UNIT, (t) => t.replace('Restart=always', 'Restart=no'));
    expect(await check(root, '--quiet')).toEqual({ code: 2, stdout: '', stderr: '' });
  });

  it('--json reports the drift as one document with exit code 2', async () => {
    const root = await installedSite();
    edit(root, UNIT, (t) => t.replace('Restart=always', 'Restart=no'));
    const r = await check(root, '--json');
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { exitCode: number; files: { path: string; status: string; diff: string }[] };
    expect(doc.exitCode).toBe(2);
    expect(doc.files.map((f) => [f.path, f.status])).toEqual([
      [CHANNELS, 'unchanged'],
      [TRANSPORT, 'unchanged'],
      [UNIT, 'update'],
    ]);
    expect(doc.files[2]?.diff).toContain('+Restart=always');
  });
});
