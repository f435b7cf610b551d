/**
 * npm run demo (scripts/demo.sh), as a new developer runs it: it must end
 * green. doctor fails first on the standard 0750 home, the demo applies the
 * fix doctor names (the sudo hop) and the last doctor passes. The sandbox's
 * service user has a uid of its own, so nothing in it "runs kimaki as root".
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot } from '../helpers/sandbox.js';

let tmp: string;
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

it('the demo fails doctor, applies the sudo hop, and ends on a passing doctor', () => {
  // TMPDIR: the demo's sandbox lands here, so the test can read it and remove it.
  tmp = mkdtempSync(path.join(tmpdir(), 'bridgectl-demo-test-'));
  const r = spawnSync('bash', ['scripts/demo.sh'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);

  const doctors = r.stdout.split(/^\$ bridgectl doctor .*$/m).slice(1);
  expect(doctors).toHaveLength(2);
  expect(doctors[0]).toMatch(/^FAIL +channel\.kimaki\.data-dir /m);
  expect(r.stdout).toMatch(/^\$ bridgectl upgrade --site \/var\/www\/html --dispatch sudo /m);
  // The last doctor: no FAIL line as root (and it exits 0: the demo runs it under set -e).
  const last = doctors[1] ?? '';
  const failed = [...last.matchAll(/^FAIL +(\S+)/gm)].map((m) => m[1]);
  // Only root can make the hop's files root's, as sudo requires: without root those checks alone fail.
  expect(failed).toEqual(isRoot ? [] : ['channel.kimaki.sudo.sudoers', 'channel.kimaki.sudo.target', 'channel.kimaki.sudo.wrapper']);
  expect(last).toMatch(/^ok +channel\.kimaki\.sudo\.channel /m);

  const [sandbox] = readdirSync(tmp);
  const passwd = readFileSync(path.join(tmp, sandbox ?? '', 'etc/passwd'), 'utf8');
  const uid = Number(/^opencode:x:(\d+):/m.exec(passwd)?.[1]);
  if (isRoot) expect(uid).not.toBe(0);
  else expect(uid).toBe(process.getuid?.());
  expect(r.stdout).not.toMatch(/kimaki as root/);
}, 60_000);
