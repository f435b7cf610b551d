/**
 * The command line around the commands: help with an example everywhere,
 * shell completion, colour only on a TTY and never with NO_COLOR.
 */
import { bridgeIds } from '../../bridges/index.js';
import { COMMANDS, main } from '../../installer/cli/cli.js';
import { runMain } from '../helpers/cli.js';
import { CHANNELS, serverSandbox, SITE } from '../helpers/sandbox.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

async function run(argv: string[], env: Record<string, string | undefined>, isTTY: boolean) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, isTTY });
  return { code, stdout, stderr };
}

describe('--help', () => {
  it.each(COMMANDS.map((c) => [c]))('%s --help shows an example', async (command) => {
    const r = await runMain([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Examples:\\n {2}bridgectl ${command}\\b`));
  });

  it('documents the exit codes', async () => {
    expect((await runMain(['--help'])).stdout).toMatch(/Exit codes: 0 ok, 1 failure .* 2 drift/s);
    expect((await runMain(['check', '--help'])).stdout).toMatch(/Exit codes: 0 in sync, 1 error .* 2 drift/s);
    expect((await runMain(['doctor', '--help'])).stdout).toMatch(/Exit codes: 0 no check failed .* 1 a check failed/s);
  });
});

describe('completion', () => {
  it('prints a completion script', async () => {
    const r = await runMain(['completion']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('###-begin-bridgectl-completions-###');
    expect(r.stdout).toContain('bridgectl completion >> ~/.bashrc');
  });

  it('completes commands and bridge ids', async () => {
    expect((await runMain(['--get-yargs-completions', 'bridgectl', ''])).stdout.split('\n')).toEqual(expect.arrayContaining([...COMMANDS]));
    expect((await runMain(['--get-yargs-completions', 'bridgectl', 'install', '--bridge', ''])).stdout).toBe(bridgeIds.map((id) => `${id}\n`).join(''));
  });
});

describe('colour', () => {
  async function driftedSite(): Promise<string> {
    const root = serverSandbox();
    expect((await runMain(['install', '--bridge', 'kimaki', '--site', SITE, '--service-user', 'opencode', '--root', root])).code).toBe(0);
    const file = path.join(root, CHANNELS);
    writeFileSync(file, readFileSync(file, 'utf8').replace("'timeout' => 600", "'timeout' => 1"));
    return root;
  }
  const ESC = '\u001b[';

  it('is used on a TTY', async () => {
    const root = await driftedSite();
    const r = await run(['check', '--site', SITE, '--root', root], {}, true);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${ESC}32m+        'timeout' => 600,${ESC}39m`);
    const doctor = await run(['doctor', '--site', SITE, '--root', root], {}, true);
    expect(doctor.stdout).toContain(`${ESC}31mFAIL${ESC}39m`);
  });

  it.each([
    ['not on a TTY', {}, false],
    ['with NO_COLOR', { NO_COLOR: '1' }, true],
    ['with TERM=dumb', { TERM: 'dumb' }, true],
  ] as const)('is not used %s', async (_what, env, isTTY) => {
    const root = await driftedSite();
    for (const argv of [['check'], ['doctor'], ['upgrade', '--dry-run']]) {
      const r = await run([...argv, '--site', SITE, '--root', root], env, isTTY);
      expect(r.stdout).not.toContain(ESC);
    }
  });

  it('never reaches --json', async () => {
    const root = await driftedSite();
    const r = await run(['check', '--site', SITE, '--root', root, '--json'], {}, true);
    expect(r.stdout).not.toContain(ESC);
  });
});
