/**
 * What `npm pack` (and so `npm publish`) ships: the bin, the CLI bundle and
 * the templates, and never the compile cache of the machine that packed it
 * (compiled code: installer/bin.ts trusts only one in the package it runs from).
 *
 * Packs a copy of the package with a cache planted in .compile-cache/, as a
 * dev machine has after a few runs under Node >= 22.1.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let copy: string;
afterEach(() => rmSync(copy, { recursive: true, force: true }));

it('npm pack ships dist/bridgectl.cjs, dist/cli.cjs and templates/, and no compile cache', () => {
  copy = mkdtempSync(path.join(tmpdir(), 'bridgectl-pack-'));
  for (const entry of ['package.json', 'README.md', 'dist', 'templates']) cpSync(path.resolve(entry), path.join(copy, entry), { recursive: true });
  mkdirSync(path.join(copy, '.compile-cache/v24.0.0-x64-00000000-0'), { recursive: true });
  writeFileSync(path.join(copy, '.compile-cache/v24.0.0-x64-00000000-0/0badc0de'), 'a cache');

  // --ignore-scripts: no `prepare` rebuild (which would empty dist/); pack what is there.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: copy, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'silent' } });
  expect(r.status).toBe(0);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path).sort() ?? [];

  // The bin, the CLI bundle and the packages it loads on first use (scripts/build.mjs).
  expect(files.filter((f) => f.startsWith('dist/'))).toEqual(['dist/bridgectl.cjs', 'dist/cli.cjs', 'dist/lazy-execa.cjs', 'dist/lazy-plist.cjs']);
  const templates = readdirSync(path.resolve('templates'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(path.resolve(), path.join(e.parentPath ?? e.path, e.name)))
    .sort();
  expect(templates.length).toBeGreaterThan(0);
  expect(files.filter((f) => f.startsWith('templates/'))).toEqual(templates);
  expect(files.filter((f) => f.includes('compile-cache'))).toEqual([]);
});
