/**
 * The checks of the new contents start before the lock (apply.ts
 * startVerify): applyPlan takes its verdicts only for the very
 * contents it verified, and verifies again when the plan under the lock
 * writes something else. A stand-in systemd-analyze logs each run and
 * refuses a unit holding "Bogus".
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyPlan, startVerify } from '../../installer/apply/apply.js';
import type { Plan } from '../../installer/model/plan.js';

let root: string;
let calls: string;
let env: Record<string, string>;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'bridgectl-early-'));
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  calls = path.join(root, 'calls');
  const analyze = path.join(root, 'systemd-analyze');
  writeFileSync(analyze, `#!/bin/sh\necho run >> ${calls}\nfor f; do :; done\nif grep -q Bogus "$f"; then echo "$f:2: Unknown key 'Bogus'"; exit 1; fi\nexit 0\n`);
  chmodSync(analyze, 0o755);
  env = { BRIDGECTL_SYSTEMD_ANALYZE: analyze, BRIDGECTL_PHP: 'none' };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const runs = (): number => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').length : 0);

function unitPlan(content: string): Plan {
  return {
    changes: [{ path: '/etc/systemd/system/a.service', status: 'create', before: null, after: content, mode: 0o644 }],
    directories: [],
    identities: {},
    notes: [],
  };
}

it('a plan that writes what was verified is not verified again', async () => {
  const plan = unitPlan('[Service]\nExecStart=/bin/true\n');
  const units = startVerify(plan, root, env);
  await applyPlan(plan, root, { env, verify: units });
  expect(runs()).toBe(1);
  expect(readFileSync(path.join(root, 'etc/systemd/system/a.service'), 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
});

it('a plan that changed under the lock is verified again, and its own verdict decides', async () => {
  const units = startVerify(unitPlan('[Service]\nExecStart=/bin/true\n'), root, env);
  await expect(applyPlan(unitPlan('[Service]\nBogus=1\nExecStart=/bin/true\n'), root, { env, verify: units })).rejects.toThrow(/a\.service fails systemd-analyze verify: .*Unknown key 'Bogus'/);
  expect(runs()).toBe(2);
  expect(existsSync(path.join(root, 'etc/systemd/system/a.service'))).toBe(false);
});
