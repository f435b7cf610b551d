/**
 * parsePlain beside yargs: for every command in the registry, the lines an
 * operator types are parsed without yargs, and to exactly what yargs gives;
 * every other line is left to yargs.
 */
import type { Options } from 'yargs';
import { commands } from '../../../installer/cli/commands/index.js';
import { locateCommand, parseCommandLine, sharedSets } from '../../../installer/cli/parser.js';
import { parsePlain } from '../../../installer/cli/plain-argv.js';
import type { CommandSpec, OptionSet } from '../../../installer/cli/types.js';

/** Every command that runs, by its words (`channel set`); completion prints while yargs parses, so it is always yargs'. */
function runnable(specs: readonly CommandSpec[], before: string[] = []): string[][] {
  return specs.flatMap((spec) => {
    const words = [...before, spec.command.split(' ')[0] as string];
    if (spec.subcommands) return runnable(spec.subcommands, words);
    return spec.duringParse ? [] : [words];
  });
}

function setsOf(words: string[]): OptionSet[] {
  const located = locateCommand(words);
  if (!located) throw new Error(`${words.join(' ')} is not located`);
  return [...located.options, ...sharedSets(located.spec)];
}

/** What a parse ends in, comparable: the parsed object, the text printed, or the error's message. */
async function outcome(argv: string[], plain: boolean): Promise<unknown> {
  try {
    return await parseCommandLine(argv, { plain });
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** The command's words, a value for each positional, and each demanded option. */
function baseLine(words: string[]): string[] {
  const spec = locateCommand(words)!.spec;
  const positionals = Object.keys(spec.positionals ?? {}).map(() => 'notify');
  const demanded = setsOf(words).flatMap((set) => Object.entries(set.options).filter(([, o]) => o.demandOption !== undefined).flatMap(([name, o]) => [`--${name}`, sample(o)[0] as string]));
  return [...words, ...positionals, ...demanded];
}

/** Values an operator would give an option. */
function sample(o: Options): string[] {
  if (o.choices !== undefined) return [o.choices].flat().map(String);
  if (o.type === 'number') return ['0', '5', '30'];
  return ['/srv/www', 'kimaki=/usr/local/bin/kimaki', 'a value with spaces', 'ünïcode'];
}

/** Plain forms of each option of the command, one line each (a demanded one is in every line already). */
function plainLines(words: string[]): string[][] {
  const base = baseLine(words);
  return setsOf(words).flatMap((set) =>
    Object.entries(set.options).flatMap(([name, o]) => {
      if (o.demandOption !== undefined && o.array !== true) return [];
      if (o.type === 'boolean') return [[...base, `--${name}`], [...base, `--no-${name}`], ...[o.alias ?? []].flat().map((a) => [...base, `-${a}`])];
      const values = sample(o);
      const lines = values.flatMap((v) => [[...base, `--${name}`, v], [...base, `--${name}=${v}`]]);
      if (o.array === true && values.length > 1) {
        lines.push([...base, `--${name}`, ...values.slice(0, 2)], [...base, `--${name}`, values[0] as string, `--${name}`, values[1] as string]);
      }
      return lines;
    }),
  );
}

const ALL = runnable(commands);

describe('parsePlain', () => {
  it('knows every runnable command but completion', () => {
    expect(ALL.map((w) => w.join(' '))).toEqual(expect.arrayContaining(['install', 'upgrade', 'check', 'doctor', 'channel set', 'channel list']));
  });

  describe.each(ALL.map((w) => [w.join(' '), w]))('%s', (_name, words) => {
    const lines = [baseLine(words), ...plainLines(words)];

    it('parses every plain line itself', () => {
      const declined = lines.filter((line) => parsePlain(locateCommand(line)!.rest, setsOf(words)) === undefined);
      // A demanded option missing from a line is yargs' to refuse: only lines that name them all are counted.
      expect(declined.map((l) => l.join(' '))).toEqual([]);
    });

    it('to what yargs gives', async () => {
      for (const line of lines) expect({ line, got: await outcome(line, true) }).toEqual({ line, got: await outcome(line, false) });
    });
  });

  // Lines yargs reads its own way (or refuses): parsePlain leaves each to it, or gives the same.
  const unusual: string[][] = [
    ['upgrade', '--site'],
    ['upgrade', '--site='],
    ['upgrade', '--site', ''],
    ['upgrade', '--site', '/a', '--site', '/b'],
    ['upgrade', '--site', '5'],
    ['upgrade', '--site', 'true'],
    ['upgrade', '--site=a=b'],
    ['upgrade', '--site=\'/quoted\''],
    ['upgrade', '--siteX', '/a'],
    ['upgrade', '--dryRun'],
    ['upgrade', '--dry-run=false'],
    ['upgrade', '--dry-run', 'false'],
    ['upgrade', '--dry-run', 'true'],
    ['upgrade', '--dry-run', 'nonsense'],
    ['upgrade', '--no-site', '/a'],
    ['upgrade', '--quiet', '--quiet'],
    ['upgrade', '-qq'],
    ['upgrade', '-x'],
    ['upgrade', '-'],
    ['upgrade', 'extra'],
    ['upgrade', '42'],
    ['upgrade', '--', '--site', '/a'],
    ['upgrade', '--help'],
    ['upgrade', '-h'],
    ['upgrade', '--version'],
    ['upgrade', '-v'],
    ['upgrade', '--lock-timeout', '-5'],
    ['upgrade', '--lock-timeout', '05'],
    ['upgrade', '--lock-timeout', '1e3'],
    ['upgrade', '--lock-timeout', '0x10'],
    ['upgrade', '--lock-timeout', 'abc'],
    ['upgrade', '--lock-timeout', '1.5.5'],
    ['upgrade', '--lock-timeout=7'],
    ['upgrade', '--lock-timeout', '2.5'],
    ['upgrade', '--init', 'nosuch'],
    ['upgrade', '--init', '3'],
    ['upgrade', '--dispatch', 'SUDO'],
    ['upgrade', '--binary'],
    ['upgrade', '--binary', '7'],
    ['upgrade', '--binary', '/a', '7'],
    ['upgrade', '--binary=/a', '/b'],
    ['upgrade', '--web-user', 'www-data', 'nginx', '--web-user', 'apache'],
    ['upgrade', '--root', '/r', '--root', '/s'],
    ['install', '--bridge', 'kimaki', 'nosuch'],
    ['install', '--bridge'],
    ['install'],
    ['install', '--bridge', 'kimaki', 'telegram', 'cc-connect', '--telegram-token', '123:abc'],
    ['channel', 'set', 'n', '--command', '/bin/true', '--arg', '{message}', '--arg', '--channel'],
    ['channel', 'set', 'n', '--command', '/bin/true', '--arg=--channel', '--arg', '{message}'],
    ['channel', 'set', 'n', '--command', '/bin/true', '--timeout', '0', '--no-detach'],
    ['channel', 'set', 'n', '--command', '/bin/true', '--timeout', '-1'],
    ['channel', 'set', '007', '--command', '/bin/true'],
    ['upgrade', 'help'],
    ['channel', 'set', 'help', '--command', '/bin/true'],
    ['channel', 'set', 'n', '--command', '/bin/true', 'help'],
    ['channel', 'remove', 'help'],
    ['channel', 'set', 'n', '--command', '/bin/true', '--arg='],
    ['channel', 'set', 'n', '--command', '/bin/true', '--env='],
    ['upgrade', '--web-user='],
    ['doctor', '--web-user='],
    ['upgrade', '--binary='],
    ['upgrade', '--binary', '/a', '--binary='],
    ['channel', 'set', '', '--command', '/bin/true'],
    ['channel', 'set', 'n', '--command', ''],
    ['channel', 'set', '1e3', '--command', '/bin/true'],
    ['channel', 'set', '1.50', '--command', '/bin/true'],
    ['channel', 'set', 'n', '--command', '/bin/true', '--timeout', '2.5'],
    ['channel', 'set', 'a', 'b', '--command', '/bin/true'],
    ['channel', 'set', '--command', '/bin/true'],
    ['channel', '--site', '/s', 'set', 'n', '--command', '/bin/true'],
    ['render', '--site', '/s', '--binary', '/usr/bin/kimaki', '--bridge', 'kimaki', '--out', '/tmp/x'],
    ['doctor', '--web-user', 'a', 'b', '--json'],
  ];

  it.each(unusual.map((line) => [line.join(' '), line]))('%s: left to yargs, or parsed the same', async (_name, line) => {
    expect(await outcome(line, true)).toEqual(await outcome(line, false));
  });

  it('leaves to yargs what it does not model', () => {
    const sets = setsOf(['upgrade']);
    expect(parsePlain(['--site', '/s'], sets)).toBeDefined();
    expect(parsePlain(['--site', '/s', '--help'], sets)).toBeUndefined();
    expect(parsePlain(['--site', '/s', '--bogus'], sets)).toBeUndefined();
    expect(parsePlain(['--lock-timeout', 'abc'], sets)).toBeUndefined();
  });
});
