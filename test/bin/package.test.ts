/**
 * What `npm pack` (and so `npm publish`) ships, and that an operator can
 * install it: the bin, the CLI bundle, the templates, the docs --help points
 * at and the LICENSE; never the compile cache of the machine that packed it
 * (compiled code: installer/bin.ts trusts only one in the package it runs
 * from). Then the tarball goes through `npm install -g --offline` into a
 * temporary prefix, and the installed bin runs the lifecycle on a sandbox.
 *
 * Packs a copy of the package, with --ignore-scripts: `prepack` would rebuild
 * dist/ under the other test files that run it (npm test built it already).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, serverSandbox, SITE } from '../helpers/sandbox.js';

const SHIPPED = ['package.json', 'README.md', 'LICENSE', 'dist', 'templates', 'docs'];
const npmEnv = { ...process.env, npm_config_loglevel: 'silent', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(path.join(tmpdir(), 'bridgectl-pack-'))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of what the package is made from (plus a planted compile cache), packed into tmp; returns the tarball's path. */
function pack(): string {
  const copy = path.join(tmp, 'copy');
  for (const entry of SHIPPED) cpSync(path.resolve(entry), path.join(copy, entry), { recursive: true });
  mkdirSync(path.join(copy, '.compile-cache/v24.0.0-x64-00000000-0'), { recursive: true });
  writeFileSync(path.join(copy, '.compile-cache/v24.0.0-x64-00000000-0/0badc0de'), 'a cache');
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: copy, encoding: 'utf8', env: npmEnv });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  packed = info?.files.map((f) => f.path).sort() ?? [];
  return path.join(tmp, info?.filename ?? 'missing.tgz');
}
let packed: string[] = [];

const filesUnder = (dir: string) =>
  readdirSync(path.resolve(dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(path.resolve(), path.join(e.parentPath ?? e.path, e.name)))
    .sort();

it('package.json: nothing to fetch or build at install time', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies?: object; scripts: Record<string, string>; license: string };
  expect(pkg.dependencies ?? {}).toEqual({});
  // prepare also runs on `npm install -g <checkout>` (a link), where esbuild is a missing dev dependency.
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[hook]).toBeUndefined();
  expect(pkg.scripts.prepack).toMatch(/scripts\/build\.mjs/);
  expect(pkg.license).toBe('MIT');
  expect(readFileSync('LICENSE', 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} bridgectl contributors\n/);
});

it('npm pack ships the bin, the bundle, templates/, docs/ and LICENSE, and no compile cache; npm install -g --offline installs it and it runs', () => {
  const tgz = pack();

  // The bin, the CLI bundle and the packages it loads on first use (scripts/build.mjs).
  expect(packed.filter((f) => f.startsWith('dist/'))).toEqual(['dist/bridgectl.cjs', 'dist/cli.cjs', 'dist/lazy-execa.cjs', 'dist/lazy-plist.cjs', 'dist/lazy-yargs.cjs']);
  const templates = filesUnder('templates');
  expect(templates.length).toBeGreaterThan(0);
  expect(packed.filter((f) => f.startsWith('templates/'))).toEqual(templates);
  expect(packed.filter((f) => f.startsWith('docs/'))).toEqual(filesUnder('docs'));
  expect(packed).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
  expect(packed.filter((f) => f.includes('compile-cache'))).toEqual([]);

  // Offline, with an empty cache: a dependency to fetch would fail the install (ENOTCACHED).
  const prefix = path.join(tmp, 'prefix');
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--cache', path.join(tmp, 'cache'), tgz], { encoding: 'utf8', env: npmEnv });
  expect(install.stderr).toBe('');
  expect(install.status).toBe(0);
  const installed = path.join(prefix, 'lib/node_modules/bridgectl');
  expect(readdirSync(installed).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'docs', 'package.json', 'templates']);
  const bin = path.join(prefix, 'bin/bridgectl');
  const run = (...argv: string[]) => {
    const r = spawnSync(bin, argv, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
  expect(run('--version').stdout.trim()).toBe(version);

  // Every docs/ page the CLI names (in --help, errors, fixes) is in the installed package.
  const pointers = new Set(readFileSync(path.join(installed, 'dist/cli.cjs'), 'utf8').match(/docs\/[a-z0-9-]+\.md/g) ?? []);
  expect(run('--help').stdout).toMatch(/docs\/json\.md/);
  expect(pointers.size).toBeGreaterThan(0);
  for (const doc of pointers) expect(existsSync(path.join(installed, doc)) ? doc : `${doc} (missing)`).toBe(doc);

  // The lifecycle on a sandbox: install kimaki (the sudo hop, so doctor can pass), a no-op upgrade, doctor.
  const root = serverSandbox();
  try {
    const inst = run('install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--dispatch', 'sudo', '--root', root, '--json');
    expect(inst.code).toBe(0);
    const created = (JSON.parse(inst.stdout) as { files: { status: string }[] }).files;
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((f) => f.status === 'create')).toBe(true);

    const upgrade = run('upgrade', '--site', SITE, '--root', root, '--json');
    expect(upgrade.code).toBe(0);
    const files = (JSON.parse(upgrade.stdout) as { files: { path: string; status: string }[] }).files;
    expect(files.filter((f) => f.status !== 'unchanged')).toEqual([]);
    expect(files).toHaveLength(created.length);

    const doctor = run('doctor', '--site', SITE, '--root', root, '--json');
    const checks = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string }[] }).checks;
    expect(checks.map((c) => c.id)).toContain('channel.kimaki.sudo.channel');
    // As root the sandbox's hop files are root's, as on a server, and every check passes.
    if (isRoot) {
      expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(doctor.code).toBe(0);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 120_000);
