import { locateCommand, parseCommandLine, positionalsOf } from '../../../installer/cli/parser.js';
import { UsageError } from '../../../installer/model/errors.js';

describe('locateCommand: the command argv names, found as yargs would find it', () => {
  it.each([
    [['upgrade', '--site', '/s'], ['upgrade'], ['--site', '/s']],
    // A global option and its value before the command.
    [['--root', '/sandbox', 'upgrade'], ['upgrade'], ['--root', '/sandbox']],
    // A value that happens to be a command's name is a value.
    [['--site', 'install', 'check'], ['check'], ['--site', 'install']],
    [['--site=/s', 'doctor', '--json'], ['doctor'], ['--site=/s', '--json']],
    [['channel', '--site', '/s', 'set', 'notify', '--command', '/bin/true'], ['channel', 'set'], ['--site', '/s', 'notify', '--command', '/bin/true']],
    // A boolean takes no value.
    [['--dry-run', 'install', '--bridge', 'kimaki'], ['install'], ['--dry-run', '--bridge', 'kimaki']],
  ])('%j names %j', (argv, words, rest) => {
    const located = locateCommand(argv);
    expect(located?.words).toEqual(words);
    expect(located?.rest).toEqual(rest);
  });

  it.each([
    [[]],
    [['--help']],
    [['instal']],
    // A group without its subcommand is the full parser's to explain.
    [['channel']],
    // An array option takes every word up to the next option, as yargs' does: no command is left.
    [['--bridge', 'kimaki', 'install']],
    [['--', 'upgrade']],
  ])('%j names no runnable command', (argv) => {
    expect(locateCommand(argv)).toBeUndefined();
  });

  it("gives a subcommand its parent's options after its own", () => {
    const options = locateCommand(['channel', 'set', 'x'])?.options.flatMap((set) => Object.keys(set.options)) ?? [];
    expect(options).toContain('command');
    expect(options).toContain('site');
    expect(options.indexOf('command')).toBeLessThan(options.indexOf('site'));
  });
});

describe("a located command's parser", () => {
  async function parse(argv: string[]): Promise<{ args: Record<string, unknown>; output: string }> {
    const line = await parseCommandLine(argv);
    return 'output' in line ? { args: {}, output: line.output } : { args: line.parsed as unknown as Record<string, unknown>, output: '' };
  }

  it("takes the command's own options and the global ones", async () => {
    const { args } = await parse(['--root', '/r', 'upgrade', '--site', '/s', '--dry-run']);
    expect(args).toMatchObject({ root: '/r', site: '/s', dryRun: true });
  });

  it("refuses another command's option", async () => {
    await expect(parse(['upgrade', '--command', '/bin/true'])).rejects.toThrow(/Unknown argument: command/);
  });

  it("lists the command's own options before the global ones in its help", async () => {
    const { output } = await parse(['doctor', '--help']);
    expect(output).toMatch(/^bridgectl doctor \[options\]/);
    expect(output.indexOf('--web-user')).toBeGreaterThan(-1);
    expect(output.indexOf('--web-user')).toBeLessThan(output.indexOf('--root'));
    expect(output).not.toContain('--bridge');
  });
});

describe('positionalsOf', () => {
  const set = locateCommand(['channel', 'set'])!;
  it('maps the words left to the named positionals', () => {
    expect(positionalsOf(set.spec, set.words, ['notify'])).toEqual({ name: 'notify' });
  });
  it('refuses a missing one, naming it', () => {
    expect(() => positionalsOf(set.spec, set.words, [])).toThrow(new UsageError('bridgectl channel set needs <name>'));
  });
  it('refuses extra words as yargs does', () => {
    expect(() => positionalsOf(set.spec, set.words, ['a', 'b'])).toThrow(/Unknown argument: b/);
  });
});
