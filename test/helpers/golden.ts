/**
 * Golden files: whole rendered outputs compared byte for byte with files
 * under test/golden/. They change only through `npm run golden:update`
 * (BRIDGECTL_UPDATE_GOLDEN=1), never in CI.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const GOLDEN_DIR = path.resolve('test/golden');

export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.BRIDGECTL_UPDATE_GOLDEN === '1') {
    if (process.env.CI) throw new Error('refusing to update golden files in CI');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`missing golden file ${name}: run npm run golden:update and review the diff`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
