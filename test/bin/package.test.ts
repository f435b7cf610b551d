/**
 * What `npm pack` (and so `npm publish`) ships: the bin, the core bundle, the
 * bundles it loads on first use and the templates, and never a V8 code cache or its temp files from the
 * machine that packed it (a code cache is code: installer/code-cache.ts
 * trusts only one written on the machine that runs it).
 *
 * Packs a copy of the package with a cache and a cache temp file planted in
 * dist/, as a dev machine's dist/ has after a few runs.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let copy: string;
afterEach(() => rmSync(copy, { recursive: true, force: true }));

it('npm pack ships dist/bridgectl*.cjs and templates/, and no code cache or cache temp file', () => {
  copy = mkdtempSync(path.join(tmpdir(), 'bridgectl-pack-'));
  for (const entry of ['package.json', 'README.md', 'dist', 'templates']) cpSync(path.resolve(entry), path.join(copy, entry), { recursive: true });
  writeFileSync(path.join(copy, 'dist/bridgectl-core.cjs.v8cache'), 'a cache');
  writeFileSync(path.join(copy, 'dist/.bridgectl-core.cjs.v8cache.4242-lx1b2c3.tmp'), 'a killed run left this');

  // --ignore-scripts: no `prepare` rebuild (which would empty dist/); pack what is there.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: copy, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'silent' } });
  expect(r.status).toBe(0);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path).sort() ?? [];

  // The bin, the core, and the modules the core loads on first use (scripts/build.mjs, LAZY).
  expect(files.filter((f) => f.startsWith('dist/'))).toEqual(['dist/bridgectl-core.cjs', 'dist/bridgectl-lazy-diff.cjs', 'dist/bridgectl-lazy-execa.cjs', 'dist/bridgectl-lazy-plist.cjs', 'dist/bridgectl.cjs']);
  const templates = readdirSync(path.resolve('templates'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(path.resolve(), path.join(e.parentPath ?? e.path, e.name)))
    .sort();
  expect(templates.length).toBeGreaterThan(0);
  expect(files.filter((f) => f.startsWith('templates/'))).toEqual(templates);
  expect(files.filter((f) => /v8cache|\.tmp$/.test(f))).toEqual([]);
});
