// npm run golden:update — the only way files under test/golden/ change.
// 1. Rebuild the bundle and re-render every `bridgectl render` case in
//    test/golden/render/cases.json with it.
// 2. Rewrite docs/cli.md's help block and docs/bridges.md's bridge table
//    (scripts/readme-help.mjs): a bridge added or changed shows there too.
// 3. Re-run the jest golden tests with BRIDGECTL_UPDATE_GOLDEN=1, which
//    rewrites the renderer-level golden files.
// Review the diff before committing it. Refuses to run in CI.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { writeDocs } from './readme-help.mjs';

if (process.env.CI) {
  console.error('update-golden: refusing to run in CI');
  process.exit(1);
}
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const goldenDir = path.join(repo, 'test/golden/render');
const run = (args, env = {}) =>
  spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC', LC_ALL: 'C', ...env } });

const build = run(['scripts/build.mjs']);
if (build.status !== 0) {
  process.stderr.write(build.stderr);
  process.exit(1);
}
const cases = JSON.parse(readFileSync(path.join(goldenDir, 'cases.json'), 'utf8'));
for (const { name, args } of cases) {
  const r = run(['dist/bridgectl.cjs', 'render', ...args]);
  if (r.status !== 0) {
    process.stderr.write(`${name}: bridgectl render exited ${r.status}\n${r.stderr}`);
    process.exit(1);
  }
  writeFileSync(path.join(goldenDir, `${name}.txt`), r.stdout);
  process.stdout.write(`wrote test/golden/render/${name}.txt\n`);
}

process.chdir(repo);
await writeDocs();
process.stdout.write('wrote docs/cli.md (help), docs/bridges.md (bridge table)\n');

const jest = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--testPathPattern', 'golden', ...process.argv.slice(2)],
  { cwd: repo, stdio: 'inherit', env: { ...process.env, BRIDGECTL_UPDATE_GOLDEN: '1' } },
);
process.exit(jest.status ?? 1);
