/**
 * Validation runs ONE `systemd-analyze verify` for all the units a run
 * stages (installer/apply/validate.ts, systemdVerifyAll): its start-up, ~40 ms,
 * was paid once per unit. The verdicts must be the ones a verify of each
 * unit on its own gives (a failed batch re-verifies the units whose verdict
 * depends on the exit status).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateContents, validateStaged } from '../../installer/apply/validate.js';

const hasAnalyze = existsSync('/usr/bin/systemd-analyze') || existsSync('/bin/systemd-analyze');
const itAnalyze = hasAnalyze ? it : it.skip;

/** A file as apply stages it: its server path, a temp file holding the content, and the content. */
type Staged = { serverPath: string; file: string; content: string };

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'bridgectl-batch-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const unit = (exec: string, extra = ''): string => `[Unit]\nDescription=test\n${extra}\n[Service]\nExecStart=${exec}\n\n[Install]\nWantedBy=multi-user.target\n`;

/** Stage units as apply does: temp files holding the content; the server paths under /etc/systemd/system. */
function stage(units: Record<string, string>): Staged[] {
  return Object.entries(units).map(([name, content]) => {
    const file = path.join(work, `.${name}.bridgectl-000000000000.tmp`);
    writeFileSync(file, content);
    return { serverPath: `/etc/systemd/system/${name}`, file, content };
  });
}

const one = (files: Staged[], root: string): Promise<unknown[]> => Promise.all(files.map((f) => validateStaged(f.serverPath, f.file, f.content, root, {})));

const SETS: [string, Record<string, string>][] = [
  ['all good', { 'a.service': unit('/bin/true'), 'b.service': unit('/bin/sh -c true') }],
  ['missing binaries', { 'a.service': unit('/nonexistent/a'), 'b.service': unit('/nonexistent/b'), 'c.service': unit('/bin/true') }],
  ['one broken among good', { 'a.service': unit('/bin/true'), 'broken.service': '[Service\nExecStart=/bin/true\n', 'c.service': unit('/nonexistent/c') }],
  ['a relative ExecStart', { 'a.service': unit('relative/path'), 'b.service': unit('/bin/true') }],
  ['an unknown key (a warning) beside a failure', { 'a.service': unit('/bin/true', 'Foo=bar'), 'b.service': unit('/nonexistent/b') }],
  ['a dependency that is nowhere', { 'a.service': unit('/bin/true', 'Requires=bridgectl-test-nowhere.service'), 'b.service': unit('/bin/true') }],
];

describe.each(['/sandbox-root', '/'])('on --root %s', (root) => {
  itAnalyze.each(SETS)('%s: the same verdicts as one verify per unit', async (_what, units) => {
    const files = stage(units);
    expect(await validateContents(files, root, {})).toEqual(await one(files, root));
  });
});

itAnalyze("a unit's own findings only: a Requires= on a unit that is nowhere is not a finding (--recursive-errors=no)", async () => {
  const files = stage({ 'a.service': unit('/bin/true', 'Requires=bridgectl-test-nowhere.service\nAfter=bridgectl-test-nowhere.service'), 'b.service': unit('/bin/true', 'Foo=bar') });
  expect(await one(files, '/')).toEqual([{ warnings: [] }, { error: expect.stringMatching(/b\.service:\d+: Unknown key 'Foo'/), warnings: [] }]);
  expect(await validateContents(files, '/', {})).toEqual(await one(files, '/'));
});

describe('with a stand-in systemd-analyze', () => {
  /** A fake tool that logs its arguments and prints `script`'s output. */
  function fake(script: string): { env: Record<string, string>; calls(): string[] } {
    const tool = path.join(work, 'tools', 'systemd-analyze');
    const log = path.join(work, 'tools', 'calls');
    mkdirSync(path.dirname(tool), { recursive: true });
    writeFileSync(tool, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${log}\n${script}\n`);
    chmodSync(tool, 0o755);
    return { env: { BRIDGECTL_SYSTEMD_ANALYZE: tool }, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
  }

  it('runs once for all units, every copy carrying its real name', async () => {
    const tool = fake('exit 0');
    const files = stage({ 'a.service': unit('/bin/true'), 'b.service': unit('/bin/true'), 'c.service': unit('/bin/true') });
    expect(await validateContents(files, '/', tool.env)).toEqual([{ warnings: [] }, { warnings: [] }, { warnings: [] }]);
    const calls = tool.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^verify --man=no --recursive-errors=no \S+\/a\.service \S+\/b\.service \S+\/c\.service$/);
  });

  it('a systemd-analyze older than 250 (no --recursive-errors) verifies as it always has', async () => {
    const tool = fake(`case "$*" in *recursive-errors*) echo "systemd-analyze: unrecognized option '--recursive-errors=no'"; exit 1;; esac; exit 0`);
    const files = stage({ 'a.service': unit('/bin/true'), 'b.service': unit('/bin/true') });
    expect(await validateContents(files, '/', tool.env)).toEqual([{ warnings: [] }, { warnings: [] }]);
    expect(tool.calls().map((c) => c.replace(/ \S+\/(\w)\.service/g, ' $1'))).toEqual(['verify --man=no --recursive-errors=no a b', 'verify --man=no a b']);
  });

  it('a line that names no single unit sends every unit to a verify of its own', async () => {
    const tool = fake('echo "Something about the machine went wrong"; exit 1');
    const files = stage({ 'a.service': unit('/bin/true'), 'b.service': unit('/bin/true') });
    const results = await validateContents(files, '/', tool.env);
    expect(tool.calls()).toHaveLength(3); // the batch, then one per unit
    expect(results).toEqual(files.map((f) => ({ error: `new content of ${f.serverPath} fails systemd-analyze verify: Something about the machine went wrong`, warnings: [] })));
  });

  it('after a failed batch, only the unit with a real finding is verified again, and its own status decides', async () => {
    // The batch fails (status 1) with a finding for b only; alone, b's verify exits 0: a warning, not an error.
    const tool = fake('for f in "$@"; do :; done; case "$*" in *a.service*) echo "$(echo "$*" | sed "s/.* \\([^ ]*b\\.service\\).*/\\1/"):3: Unknown key"; exit 1;; *) echo "$4:3: Unknown key"; exit 0;; esac');
    const files = stage({ 'a.service': unit('/bin/true'), 'b.service': unit('/bin/true') });
    const results = await validateContents(files, '/', tool.env);
    expect(tool.calls()).toHaveLength(2);
    expect(results).toEqual([{ warnings: [] }, { warnings: ['systemd-analyze verify /etc/systemd/system/b.service: /etc/systemd/system/b.service:3: Unknown key'] }]);
  });

  it('BRIDGECTL_SYSTEMD_ANALYZE=none checks nothing and runs nothing', async () => {
    const files = stage({ 'a.service': 'not a unit', 'b.service': 'not one either' });
    expect(await validateContents(files, '/', { BRIDGECTL_SYSTEMD_ANALYZE: 'none' })).toEqual([{ warnings: [] }, { warnings: [] }]);
  });
});
