/**
 * #19 item 6: help, version and completion as npm and git users type them;
 * each command's help lists only the options that apply, its own first;
 * numbers refused with the option's name; the see-help line only where it helps.
 */
import { VERSION } from '../../installer/lib/version.js';
import { runMain } from '../helpers/cli.js';
import { serverSandbox, SITE } from '../helpers/sandbox.js';
import { entries } from '../helpers/tree.js';

/** The long option names a help text lists, in order. */
function optionsIn(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-\w, )?\s*(--[a-z-]+)/gm)].map((m) => m[1] as string);
}

const WRITE_ONLY = ['--dry-run', '--lock-timeout', '--backup', '--allow-symlinked-dirs'];

describe('help and version words', () => {
  it.each([
    [['help', 'install'], ['install', '--help']],
    [['help', 'channel', 'set'], ['channel', 'set', '--help']],
    [['help'], ['--help']],
  ])('%j prints what %j prints', async (words, flags) => {
    const a = await runMain(words);
    const b = await runMain(flags);
    expect(a.code).toBe(0);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toMatch(/Did you mean/);
  });

  it.each([
    [['help', 'nosuch'], "bridgectl: help: bridgectl has no command 'nosuch'"],
    [['help', 'channel', 'sett'], "bridgectl: help: bridgectl has no command 'channel sett'"],
  ])('%j names the unknown command, exit 1', async (argv, line) => {
    const r = await runMain(argv);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(line);
    expect(r.stderr).toContain('fix: the commands: install, upgrade');
  });

  it.each([[['-v']], [['--version']], [['version']]])('%j prints the version', async (argv) => {
    const r = await runMain(argv);
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe("each command's help", () => {
  it.each([['doctor'], ['check'], ['completion'], ['channel list'], ['render']])('%s lists no write-safety option', async (command) => {
    const listed = optionsIn((await runMain([...command.split(' '), '--help'])).stdout);
    expect(listed).toContain('--root');
    const expected = command === 'render' ? ['--dry-run'] : [];
    expect(listed.filter((o) => WRITE_ONLY.includes(o))).toEqual(expected);
  });

  it.each([['install'], ['upgrade'], ['uninstall'], ['channel set'], ['channel remove']])('%s lists them, after its own options', async (command) => {
    const listed = optionsIn((await runMain([...command.split(' '), '--help'])).stdout);
    for (const option of WRITE_ONLY) expect(listed).toContain(option);
    const own = command.startsWith('channel') ? '--site' : '--bridge';
    expect(listed.indexOf(own)).toBeLessThan(listed.indexOf('--dry-run'));
    expect(listed.indexOf('--dry-run')).toBeLessThan(listed.indexOf('--root'));
  });

  it('doctor refuses --dry-run, which does not apply to it', async () => {
    const r = await runMain(['doctor', '--dry-run', '--site', SITE, '--root', serverSandbox()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bridgectl: Unknown arguments?: dry-run/);
  });
});

describe('numbers', () => {
  it.each([
    [['install', '--bridge', 'kimaki', '--site', SITE, '--lock-timeout', 'soon'], '--lock-timeout takes a number of seconds, 0 or more (not a number)'],
    [['install', '--bridge', 'kimaki', '--site', SITE, '--lock-timeout=-3'], '--lock-timeout takes a number of seconds, 0 or more (got -3)'],
    [['channel', 'set', 'x', '--site', SITE, '--command', '/bin/true', '--timeout', 'ten'], '--timeout takes a whole number of seconds, 0 or more (not a number)'],
  ])('%j: refused before anything is read, nothing written', async (argv, message) => {
    const root = serverSandbox();
    const before = entries(root);
    const r = await runMain(['--root', root, ...argv]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: ${message}`);
    expect(r.stderr.split('\n')[1]).toMatch(/^ {2}fix: e\.g\. --(lock-)?timeout \d+/);
    expect(entries(root)).toEqual(before);
  });
});

describe('completion bash|zsh', () => {
  it('bash (the default) and zsh each print yargs\' script for that shell, whatever $SHELL says', async () => {
    const saved = process.env.SHELL;
    process.env.SHELL = '/usr/bin/zsh';
    try {
      const bash = await runMain(['completion', 'bash']);
      expect(bash.code).toBe(0);
      expect(bash.stdout).toContain('complete -o bashdefault -o default -F _bridgectl_yargs_completions bridgectl');
      expect((await runMain(['completion'])).stdout).toBe(bash.stdout);
    } finally {
      if (saved === undefined) delete process.env.SHELL;
      else process.env.SHELL = saved;
    }
    const zsh = await runMain(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef bridgectl/);
    expect(process.env.SHELL).toBe(saved);
  });

  it.each([
    [['completion', 'fish'], "completion: unknown shell 'fish'; bridgectl completes in bash and zsh"],
    [['completion', '--json'], 'completion prints a shell script, not JSON'],
  ])('%j is refused', async (argv, message) => {
    const r = await runMain(argv);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`bridgectl: ${message}`);
  });
});

describe("the see-help line", () => {
  it("names the command's own help after a usage error", async () => {
    const r = await runMain(['channel', 'set', 'x', '--site', SITE, '--command', '/bin/true', '--bogus']);
    expect(r.stderr).toBe("bridgectl: Unknown argument: bogus\n  see 'bridgectl channel set --help'\n");
  });

  it('is left out when the error carries its own fix', async () => {
    const r = await runMain(['channel', 'set', 'x', '--site', SITE, '--command', '/bin/true', '--arg', '-v']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("bridgectl: --arg needs a value, and -v was taken for an option\n  fix: a value that starts with a dash goes after '=': --arg=-v\n");
  });

  it('is bridgectl --help when no command was named', async () => {
    const r = await runMain(['--bogus']);
    expect(r.stderr).toMatch(/\n {2}see 'bridgectl --help'\n$/);
  });
});
