/** The argv rewriting behind `help <command>` and `version`, and the dash-value refusal (#19 item 6). */
import { dashValue, rewriteHabits, type ValuesOf } from '../../../installer/cli/habits.js';

const valuesOf: ValuesOf = (name) => (name === 'arg' ? 'many' : ['site', 'root', 'lock-timeout'].includes(name) ? 'one' : undefined);

describe('rewriteHabits', () => {
  it.each([
    [['help'], ['--help']],
    [['help', 'install'], ['install', '--help']],
    [['help', 'channel', 'set'], ['channel', 'set', '--help']],
    [['--root', '/x', 'help', 'doctor'], ['--root', '/x', 'doctor', '--help']],
    [['version'], ['--version']],
    [['install', 'help'], ['install', 'help']],
    [['version', 'extra'], ['version', 'extra']],
    [['--', 'help'], ['--', 'help']],
    [['--site', 'help'], ['--site', 'help']],
    [['--site=/x', 'help'], ['--site=/x', '--help']],
    [['install', '--site', '/x'], ['install', '--site', '/x']],
  ])('%j -> %j', (argv, want) => {
    expect(rewriteHabits(argv, valuesOf)).toEqual(want);
  });
});

describe('dashValue', () => {
  it('names the option and the spelling that works', () => {
    expect(dashValue(['channel', 'set', 'x', '--arg', '-v'], valuesOf)).toEqual({
      message: '--arg needs a value, and -v was taken for an option',
      hint: "a value that starts with a dash goes after '=': --arg=-v",
    });
  });
  it.each([
    [['--arg=-v']],
    [['--arg', 'v', '-q']],
    [['--json', '-q']],
    [['--', '--arg', '-v']],
    [['--arg', '--']],
    [['--lock-timeout', '-5']],
  ])('leaves %j alone', (argv) => {
    expect(dashValue(argv, valuesOf)).toBeUndefined();
  });
});
