// npm run golden:update — the only way test/golden/render/* changes: rebuild
// the bundle, render every case in cases.json with it, and overwrite the
// expected listings. Review the diff before committing it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const goldenDir = path.join(repo, 'test/golden/render');
const run = (args) => spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC', LC_ALL: 'C' } });

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
