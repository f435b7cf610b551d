/**
 * #19 items 7 and 8: the summary line, --json's `changed` and `counts`, one
 * naming rule for `command`, channel list's exitCode and error, one-line
 * errors, notes on stderr too, and the schema file that says all of it
 * (docs/bridgectl.schema.json, shipped in the package).
 */
import { readFileSync } from 'node:fs';
import { runMain, type RunResult } from '../helpers/cli.js';
import { keyNames, schemaErrors, SCHEMA } from '../helpers/json-shape.js';
import { serverSandbox, SITE } from '../helpers/sandbox.js';

const install = ['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode'];

function doc(r: RunResult): Record<string, unknown> {
  const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(schemaErrors(parsed)).toEqual([]);
  expect(parsed.exitCode).toBe(r.code);
  return parsed;
}

describe('the summary line', () => {
  it('closes install, upgrade and uninstall on stdout, and --quiet leaves it out', async () => {
    const root = serverSandbox();
    const dry = await runMain([...install, '--root', root, '--dry-run']);
    expect(dry.stdout.split('\n').slice(-3)).toEqual(['3 would change (3 created), 0 unchanged, 1 directory to create', 'dry run: nothing was written', '']);
    const first = await runMain([...install, '--root', root]);
    expect(first.stdout.split('\n').at(-2)).toBe('3 changed (3 created), 0 unchanged, 1 directory created');
    expect((await runMain(['upgrade', '--site', SITE, '--root', root])).stdout.split('\n').at(-2)).toBe('0 changed, 3 unchanged');
    expect((await runMain(['upgrade', '--site', SITE, '--root', root, '--quiet'])).stdout).toBe('');
    const gone = await runMain(['uninstall', '--bridge', 'kimaki', '--site', SITE, '--root', root]);
    expect(gone.stdout.split('\n').at(-2)).toMatch(/^\d+ changed \((\d+ updated, )?\d+ removed\), \d+ unchanged$/);
  });
});

describe('--json changed and counts', () => {
  it('say what the run changed, and nothing on a second run', async () => {
    const root = serverSandbox();
    const dry = doc(await runMain([...install, '--root', root, '--json', '--dry-run']));
    expect(dry).toMatchObject({ dryRun: true, changed: true, counts: { create: 3, update: 0, unchanged: 0, remove: 0 } });
    const first = doc(await runMain([...install, '--root', root, '--json']));
    expect(first).toMatchObject({ dryRun: false, changed: true, counts: { create: 3, update: 0, unchanged: 0, remove: 0 } });
    const again = doc(await runMain(['upgrade', '--site', SITE, '--root', root, '--json']));
    expect(again).toMatchObject({ changed: false, counts: { create: 0, update: 0, unchanged: 3, remove: 0 } });
    const check = doc(await runMain(['check', '--site', SITE, '--root', root, '--json']));
    expect(check).toMatchObject({ changed: false, exitCode: 0 });
  });

  it('a run that failed before planning changed nothing', async () => {
    const r = await runMain([...install, '--site', '/nope', '--root', serverSandbox(), '--json']);
    expect(doc(r)).toMatchObject({ changed: false, counts: { create: 0, update: 0, unchanged: 0, remove: 0 } });
  });
});

describe('command names and channel documents', () => {
  it('is the words typed, for channel set, remove and list alike; every document passes the schema', async () => {
    const root = serverSandbox();
    const site = ['--site', SITE, '--root', root, '--json'];
    const set = await runMain(['channel', 'set', 'pager', '--command', '/usr/bin/pager', '--allow-missing-binary', ...site]);
    expect(doc(set)).toMatchObject({ command: 'channel set', exitCode: 0, error: null });
    const list = await runMain(['channel', 'list', ...site]);
    expect(doc(list)).toMatchObject({ command: 'channel list', exitCode: 0, error: null, exists: true, channels: [expect.objectContaining({ name: 'pager' })] });
    const remove = await runMain(['channel', 'remove', 'pager', ...site]);
    expect(doc(remove)).toMatchObject({ command: 'channel remove', exitCode: 0 });
    const failed = await runMain(['channel', 'list', '--root', root, '--json']);
    expect(failed.code).toBe(1);
    expect(doc(failed)).toMatchObject({ command: 'channel list', exitCode: 1, error: { message: expect.any(String) } });
  });

  it('notes are on stderr as well as in the document', async () => {
    const root = serverSandbox();
    const r = await runMain(['channel', 'set', 'pager', '--command', '/usr/bin/pager', '--allow-missing-binary', '--site', SITE, '--root', root, '--json']);
    const notes = doc(r).notes as string[];
    expect(notes).toEqual([expect.stringMatching(/is not an executable file/)]);
    for (const note of notes) expect(r.stderr).toContain(`note: ${note}\n`);
  });

  it('error.message is one line, even where yargs wrote two', async () => {
    const r = await runMain(['install', '--json']);
    const error = doc(r).error as { message: string };
    expect(error.message).toBe('Missing required argument: bridge; name the bridge with --bridge');
  });
});

describe('the schema file', () => {
  it('is shipped in the package', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[] };
    // package.json's files list names it, or the docs/ directory that holds it.
    expect(pkg.files.filter((f) => f === 'docs' || f === 'docs/bridgectl.schema.json')).not.toEqual([]);
  });

  it('refuses a document missing a key or with one too many (the check can fail)', () => {
    const good = { version: 1, bridgectl: '0', command: 'channel list', exitCode: 0, error: null, file: '/f', exists: false, channels: [] };
    expect(schemaErrors(good)).toEqual([]);
    expect(schemaErrors({ ...good, extra: 1 })).not.toEqual([]);
    const { exitCode: _dropped, ...missing } = good;
    expect(schemaErrors(missing)).not.toEqual([]);
  });

  it('every key it defines is in docs/json.md', () => {
    const text = readFileSync('docs/json.md', 'utf8');
    const keys = [...new Set(keyNames(SCHEMA))];
    expect(keys).toEqual(expect.arrayContaining(['changed', 'counts', 'channels', 'readable']));
    expect(keys.filter((k) => !text.includes(`\`${k}\``))).toEqual([]);
  });
});
