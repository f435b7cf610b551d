/**
 * Golden files: every rendered file of every bridge × init × {root, user},
 * byte for byte, under test/golden/<bridge>/<init>-<who>/. A change in
 * output fails here; when it is intended, regenerate with
 * `npm run golden:update` and review the diff. Never updated in CI.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TRANSPORT_TEMPLATE } from '../../installer/plan/site-files.js';
import { caseDir, RENDER_CASES, renderCase } from '../helpers/render-cases.js';

const GOLDEN = path.resolve('test/golden');
const UPDATE = process.env.BRIDGECTL_UPDATE_GOLDEN === '1';
if (UPDATE && process.env.CI) throw new Error('refusing to update golden files in CI');

describe('golden files', () => {
  it.each(RENDER_CASES.map((c) => [caseDir(c), c] as const))('%s', (dir, c) => {
    const plan = renderCase(c);
    // The transport is a static file, the same for every identity: test/php covers it, not 36 copies here.
    const rendered = new Map(
      plan.changes.flatMap((f) => (f.after === null || path.posix.basename(f.path) === TRANSPORT_TEMPLATE ? [] : [[path.posix.basename(f.path), f.after] as const])),
    );
    const target = path.join(GOLDEN, dir);
    if (UPDATE) {
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      for (const [name, text] of rendered) writeFileSync(path.join(target, name), text);
      return;
    }
    expect(readdirSync(target).sort()).toEqual([...rendered.keys()].sort());
    for (const [name, text] of rendered) expect(text).toBe(readFileSync(path.join(target, name), 'utf8'));
  });
});
