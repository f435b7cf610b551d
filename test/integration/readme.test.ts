import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { bridgesTable } from '../../scripts/bridges-table.js';
import { runBin } from '../helpers/cli.js';
import { isRoot, serverSandbox } from '../helpers/sandbox.js';

const readme = readFileSync('README.md', 'utf8');

/** The body of the README's section `## <title>`. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The bridgectl commands of a section's sh block, comments dropped, `a && b` split, as argv. */
function commands(title: string): string[][] {
  const block = /```sh\n([\s\S]*?)```/.exec(section(title))?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .flatMap((line) => line.split(' && '))
    .map((cmd) => cmd.trim().split(/\s+/))
    .filter((argv) => argv[0] === 'bridgectl')
    .map((argv) => argv.slice(1));
}

describe('README', () => {
  it('starts where an operator starts: what it is, Install, a quick start, a deploy hook, then developers', () => {
    const headings = readme.match(/^## .*$/gm) ?? [];
    expect(headings).toEqual(['## Install', '## Quick start on a server', '## On every deploy', '## Many servers: Ansible', '## More', '## For developers']);
    expect(readme.split('\n').length).toBeLessThan(150);
    expect(section('Install')).toMatch(/^npm install -g \.\/bridgectl-[0-9.]+\.tgz$/m);
    expect(section('Install')).toMatch(/^npm ci && npm pack\b/m);
  });

  it('gives developers the demo and the test command, and CI runs that test command', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(section('For developers'))?.[1] ?? '';
    expect(block).toMatch(/^npm ci && npm run demo /m);
    const test = /^(npm test)\b/m.exec(block)?.[1];
    expect(test).toBe('npm test');
    expect(readFileSync('.ci/run', 'utf8')).toMatch(new RegExp(`^${test}$`, 'm'));
  });

  it('links only files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1] ?? '').filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(existsSync(link) ? link : `${link} (missing)`).toBe(link);
  });

  it("quick start and deploy hook, followed in a sandbox: doctor fails, the fix makes it pass, the hook succeeds", () => {
    const root = serverSandbox();
    const steps = commands('Quick start on a server');
    expect(steps.map((argv) => argv[0])).toEqual(['install', 'doctor', 'upgrade', 'doctor']);
    const codes = steps.map((argv) => runBin([...argv, '--root', root]).code);
    expect(codes.slice(0, 3)).toEqual([0, 1, 0]);
    // As root the sandbox's sudo files are root's, as on a server; otherwise doctor rightly fails them.
    if (isRoot) expect(codes[3]).toBe(0);

    const hook = commands('On every deploy');
    expect(hook.map((argv) => argv[0])).toEqual(['upgrade', 'check', 'doctor']);
    for (const argv of hook.slice(0, isRoot ? 3 : 2)) expect([argv.join(' '), runBin([...argv, '--root', root]).code]).toEqual([argv.join(' '), 0]);
  });
});

describe('docs', () => {
  it('docs/cli.md shows the real --help output (npm run readme refreshes it)', () => {
    const r = spawnSync(process.execPath, ['-e', "import('./scripts/readme-help.mjs').then(m => process.stdout.write(m.helpBlock()))"], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join('docs', 'cli.md'), 'utf8')).toContain(r.stdout);
  });

  it("shows the bridge registry's table in docs/bridges.md (npm run readme refreshes it)", () => {
    expect(readFileSync('docs/bridges.md', 'utf8')).toContain(bridgesTable());
  });
});
