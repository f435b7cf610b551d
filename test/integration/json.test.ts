/**
 * --json: for every command, stdout is exactly one JSON document in the
 * documented shape (test/helpers/json-shape.ts), also on failure.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { main } from '../../installer/cli/cli.js';
import { jsonDocument, JSON_SCHEMA_VERSION } from '../../installer/report/report.js';
import type { ServiceEnv } from '../../installer/apply/services.js';
import { runnerOf } from '../../installer/process/run.js';
import { runBin, runMain, type RunResult } from '../helpers/cli.js';
import { exited } from '../helpers/runner.js';
import { keyNames, schemaErrors } from '../helpers/json-shape.js';
import { at, CHANNELS, serverSandbox, SITE } from '../helpers/sandbox.js';

function oneDocument(r: RunResult): Record<string, unknown> {
  expect(r.stdout.endsWith('}\n')).toBe(true);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>; // throws on anything but one document
  expect(schemaErrors(doc)).toEqual([]);
  expect(doc.exitCode).toBe(r.code);
  return doc;
}

const install = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode'];

describe('--json on every command', () => {
  it('install, upgrade, check, doctor, uninstall and render each print one document', async () => {
    const root = serverSandbox();
    const runs: [string, string[]][] = [
      ['install', [...install, '--dry-run']],
      ['install', install],
      ['upgrade', ['upgrade', '--site', SITE]],
      ['check', ['check', '--site', SITE]],
      ['doctor', ['doctor', '--site', SITE]],
      ['uninstall', ['uninstall', '--bridge', 'kimaki', '--site', SITE]],
      ['render', ['render', '--bridge', 'kimaki', '--site', SITE, '--run-as-root', '--binary', '/usr/bin/kimaki']],
    ];
    for (const [command, argv] of runs) {
      const r = await runMain([...argv, '--root', root, '--json']);
      const doc = oneDocument(r);
      expect(doc.command).toBe(command);
      expect(doc.version).toBe(JSON_SCHEMA_VERSION);
    }
  });

  it('install reports the resolved identity and one entry per managed file', async () => {
    const root = serverSandbox();
    const doc = oneDocument(await runMain([...install, '--root', root, '--json']));
    expect(doc).toMatchObject({
      command: 'install',
      dryRun: false,
      site: SITE,
      error: null,
      identities: { kimaki: { serviceUser: 'opencode', home: '/home/opencode', dataDir: '/home/opencode/.kimaki', binary: '/usr/local/bin/kimaki', site: SITE, init: 'systemd' } },
      directories: [{ path: '/home/opencode/.kimaki', status: 'create', mode: '0700' }],
      webUser: null,
      checks: [],
    });
    const files = doc.files as { path: string; status: string; currentMode: string | null; content: string; diff: string }[];
    expect(files.map((f) => [f.path, f.status, f.currentMode])).toEqual([
      [CHANNELS, 'create', null],
      ['/var/www/html/wp-content/mu-plugins/wp-coding-agents-cli-transport.php', 'create', null],
      ['/etc/systemd/system/kimaki.service', 'create', null],
    ]);
    expect(files[0]?.content).toContain("$channels['kimaki']");
    expect(files[0]?.diff).toContain(`+++ b${CHANNELS}`);
    const again = oneDocument(await runMain(['upgrade', '--site', SITE, '--root', root, '--json']));
    expect((again.files as { status: string; diff: string; currentMode: string }[]).map((f) => [f.status, f.diff, f.currentMode])).toEqual([
      ['unchanged', '', '0644'],
      ['unchanged', '', '0644'],
      ['unchanged', '', '0644'],
    ]);
  });

  it('render reports null owners: it resolves none', async () => {
    const doc = oneDocument(await runMain(['render', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'x', '--binary', '/k', '--json']));
    expect(doc.identities).toEqual({ kimaki: expect.objectContaining({ uid: null, gid: null, home: '/home/x' }) });
    expect(doc.directories).toEqual([]);
  });

  it.each([
    ['a failed command', ['install', '--bridge', 'kimaki', '--site', '/nope', '--json'], 'install'],
    ['a usage error', ['check', '--no-such-flag', '--json'], 'check'],
    ['a missing command', ['--json'], ''],
  ])('%s still prints one document, with the error', async (_what, argv, command) => {
    const r = await runMain(argv);
    expect(r.code).toBe(1);
    const doc = oneDocument(r);
    expect(doc.command).toBe(command);
    expect(doc.error).toEqual(expect.objectContaining({ message: expect.any(String) }));
    expect(r.stderr).toMatch(/^bridgectl: /);
  });

  it('a systemctl that fails after the files were written: still one document, exit 1, the error says the files are in place', async () => {
    const root = serverSandbox();
    // The sandbox stands in for the live host; systemctl is a fake that fails (no real systemctl runs).
    const calls: string[] = [];
    const services: ServiceEnv = {
      liveRoot: root,
      systemdRunning: () => true,
      runner: runnerOf((file, args) => {
        calls.push([file, ...args].join(' '));
        return exited(1);
      }),
    };
    for (const json of [true, false]) {
      let stdout = '';
      let stderr = '';
      const code = await main([...install, '--root', root, ...(json ? ['--json'] : [])], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, services });
      expect(code).toBe(1);
      expect(stderr).toContain('bridgectl: files were written; `systemctl daemon-reload` failed: exit status 1\n');
      expect(stderr).toContain('fix: see systemctl\'s message above, then run by hand: systemctl daemon-reload && systemctl enable kimaki.service');
      expect(stderr).not.toMatch(/internal error/);
      if (json) {
        const doc = oneDocument({ code, stdout, stderr });
        expect(doc).toMatchObject({ command: 'install', dryRun: false, error: { message: 'files were written; `systemctl daemon-reload` failed: exit status 1' } });
        expect((doc.files as { status: string }[]).map((f) => f.status)).toEqual(['create', 'create', 'create']);
      } else {
        expect(stdout).toMatch(/^create +\/etc\/systemd\/system\/kimaki.service$/m);
      }
      expect(existsSync(at(root, '/etc/systemd/system/kimaki.service'))).toBe(true);
      rmSync(at(root, '/etc/systemd/system/kimaki.service'));
    }
    expect(calls).toEqual(['systemctl daemon-reload', 'systemctl daemon-reload']);
  });

  it('a skipped reload is a note on stderr (and in the document\'s notes), never extra text on stdout', async () => {
    const root = serverSandbox();
    const services: ServiceEnv = { liveRoot: root, systemdRunning: () => false, runner: runnerOf(() => exited(0)) };
    let stdout = '';
    let stderr = '';
    const code = await main([...install, '--root', root, '--json'], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, services });
    expect(code).toBe(0);
    const doc = oneDocument({ code, stdout, stderr });
    expect(stderr).toMatch(/^note: systemd is not running here/m);
    expect(doc.notes).toEqual([expect.stringMatching(/^systemd is not running here/)]);
  });

  it('holds for the built bin too: nothing but the document on stdout', () => {
    const root = serverSandbox();
    const r = runBin([...install, '--root', root, '--json']);
    expect(r.code).toBe(0);
    oneDocument(r);
  });
});

describe('the JSON schema is pinned', () => {
  it('has exactly these top-level keys, in this order', () => {
    expect(Object.keys(jsonDocument({ command: 'check', exitCode: 0, dryRun: true }))).toEqual([
      'version',
      'bridgectl',
      'command',
      'exitCode',
      'dryRun',
      'changed',
      'counts',
      'site',
      'error',
      'identities',
      'notes',
      'directories',
      'files',
      'webUser',
      'checks',
      'bridges', // status: added by #19, not a breaking change
    ]);
  });

  it('docs/json.md documents every key', () => {
    const doc = readFileSync('docs/json.md', 'utf8');
    const missing = [...new Set(keyNames())].filter((k) => !doc.includes(`\`${k}\``));
    expect(missing).toEqual([]);
    expect(doc).toContain(`"version": ${JSON_SCHEMA_VERSION}`);
  });
});
