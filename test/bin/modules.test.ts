/**
 * What a start loads. `--help`, `--version` and a no-op upgrade start no
 * process, so they must not load node:child_process or node:os, nor
 * execa (dist/lazy-execa.cjs). A plain command line is parsed without
 * yargs (dist/lazy-yargs.cjs): only help, version and a mistake load it.
 *
 * Recorded from inside the built bin's process: a --require preload writes
 * process.moduleLoadList and the files required at exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, runBin } from '../helpers/cli.js';
import { installArgs } from '../helpers/safety.js';
import { serverSandbox, SITE } from '../helpers/sandbox.js';

const FORBIDDEN = ['child_process', 'os'];
/** Loaded by execa's modules, by nothing else of ours. */
const EXECA_BUILTINS = ['timers/promises', 'v8'];

let dir: string;
let preload: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-modules-'));
  preload = path.join(dir, 'record.cjs');
  writeFileSync(
    preload,
    "process.on('exit', () => require('fs').writeFileSync(process.env.BRIDGECTL_TEST_MODULES, [...process.moduleLoadList, ...Object.keys(require.cache).map((f) => 'File ' + f)].join('\\n')));\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the built bin (stdout and stderr on pipes); the Node builtins it loaded, and the names of the files of dist/ it required. */
function builtinsLoaded(argv: string[], extraEnv: Record<string, string> = {}): { code: number | null; stderr: string; builtins: string[]; files: string[] } {
  const out = path.join(dir, `modules-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync(process.execPath, ['--require', preload, BIN, ...argv], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BRIDGECTL_TEST_MODULES: out, ...extraEnv },
    encoding: 'utf8',
  });
  const list = readFileSync(out, 'utf8').split('\n');
  return {
    code: r.status,
    stderr: r.stderr,
    builtins: list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)),
    files: list.filter((m) => m.startsWith('File ') && m !== `File ${preload}`).map((m) => path.basename(m)),
  };
}

const forbiddenIn = (builtins: string[]): string[] => builtins.filter((m) => FORBIDDEN.includes(m));

describe('a start', () => {
  it.each([[['--version']], [['--help']], [['install', '--help']], [['upgrade', '--bogus']]])('%j loads neither child_process nor os, and yargs for its text', (argv) => {
    const r = builtinsLoaded(argv);
    expect(r.builtins.length).toBeGreaterThan(0); // the preload ran
    expect(forbiddenIn(r.builtins)).toEqual([]);
    expect(r.files).toContain('lazy-yargs.cjs');
  });

  it('a no-op upgrade loads neither, nor execa, nor yargs', () => {
    const root = serverSandbox();
    expect(runBin(installArgs(root, '--no-reload')).code).toBe(0);
    const r = builtinsLoaded(['upgrade', '--site', SITE, '--root', root]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(forbiddenIn(r.builtins)).toEqual([]);
    expect(r.builtins.filter((m) => EXECA_BUILTINS.includes(m))).toEqual([]);
    expect(r.files).toEqual(['bridgectl.cjs', 'cli.cjs']);
  });
});

it('a run that starts a process (a validator) initializes execa, and with it child_process', () => {
  const root = serverSandbox();
  const r = builtinsLoaded(installArgs(root, '--no-reload'), { BRIDGECTL_PHP: '/bin/true' });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.builtins).toEqual(expect.arrayContaining(['child_process', ...EXECA_BUILTINS]));
});

it('(the check itself sees them when they are loaded)', () => {
  const r = spawnSync(process.execPath, ['--require', preload, '-e', "require('node:child_process'); require('node:os')"], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BRIDGECTL_TEST_MODULES: path.join(dir, 'control') },
  });
  expect(r.status).toBe(0);
  const builtins = readFileSync(path.join(dir, 'control'), 'utf8').split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  expect(forbiddenIn(builtins)).toEqual(expect.arrayContaining(['child_process', 'os']));
});
