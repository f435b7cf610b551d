// npm run golden:update — re-render test/golden/ on purpose, then review
// `git diff test/golden`. The golden test only writes when asked to here,
// and refuses to in CI; `npm test` (jest --ci) only ever compares.
import { spawnSync } from 'node:child_process';

if (process.env.CI) {
  console.error('update-golden: refusing to run in CI');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci', 'test/unit/golden.test.ts'],
  { stdio: 'inherit', env: { ...process.env, BRIDGECTL_UPDATE_GOLDEN: '1' } },
);
process.exit(r.status ?? 1);
