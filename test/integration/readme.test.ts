import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { bridgesTable } from '../../scripts/bridges-table.js';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('opens with the demo and the test command', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^npm ci && npm run demo/m);
    expect(firstBlock).toMatch(/^npm test/m);
  });

  it('shows the real --help output (npm run readme refreshes it)', () => {
    const r = spawnSync(process.execPath, ['-e', "import('./scripts/readme-help.mjs').then(m => process.stdout.write(m.helpBlock()))"], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readme).toContain(r.stdout);
  });

  it("shows the bridge registry's table in docs/bridges.md (npm run readme refreshes it)", () => {
    expect(readFileSync('docs/bridges.md', 'utf8')).toContain(bridgesTable());
  });
});
