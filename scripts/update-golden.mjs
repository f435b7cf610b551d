// Re-render every golden file on purpose; review the diff before committing.
import { spawnSync } from 'node:child_process';

if (process.env.CI) {
  console.error('update-golden: refusing to run in CI');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--testPathPattern', 'golden', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, BRIDGECTL_UPDATE_GOLDEN: '1' } },
);
process.exit(r.status ?? 1);
