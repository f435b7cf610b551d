/**
 * What npm and git users type and yargs does not take as such:
 * `help <command>`, `version`, and a value that starts with a dash. Pure
 * argv rewriting and wording; parser.ts and cli.ts use them.
 */

/** How many words an option name takes after it (parser.ts knows them from the registry). */
export type ValuesOf = (name: string) => 'one' | 'many' | undefined;

/**
 * `help [command...]` is `[command...] --help` and `version` is `--version`,
 * when they are the first word that is neither an option nor its value
 * (`bridgectl --root /x help install`).
 */
export function rewriteHabits(argv: readonly string[], valuesOf: ValuesOf): string[] {
  const first = firstWord(argv, valuesOf);
  if (first === -1) return [...argv];
  const word = argv[first];
  const before = argv.slice(0, first);
  const after = argv.slice(first + 1);
  if (word === 'help') return [...before, ...after, '--help'];
  if (word === 'version' && after.length === 0) return [...before, '--version'];
  return [...argv];
}

/** The words after a leading `help` (`help channel set`: channel, set), or undefined when the run is not asking for help so. */
export function helpTopic(argv: readonly string[], valuesOf: ValuesOf): string[] | undefined {
  const first = firstWord(argv, valuesOf);
  if (first === -1 || argv[first] !== 'help') return undefined;
  return argv.slice(first + 1).filter((a) => !a.startsWith('-'));
}

/** Where the first word that is neither an option nor an option's value stands; -1 for none (or after `--`). */
function firstWord(argv: readonly string[], valuesOf: ValuesOf): number {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') return -1;
    if (!word.startsWith('-')) return i;
    if (!word.includes('=') && valuesOf(word.replace(/^-+/, '')) === 'one') i++;
  }
  return -1;
}

/**
 * An option that takes a value followed straight by a dash word: yargs
 * would take the word for an option of its own (`--arg -v`: "Unknown
 * argument: v", or the version), so the run is refused with the spelling
 * that works (`--arg=-v`).
 */
export function dashValue(argv: readonly string[], valuesOf: ValuesOf): { message: string; hint: string } | undefined {
  for (let i = 0; i + 1 < argv.length; i++) {
    const option = argv[i] as string;
    const value = argv[i + 1] as string;
    if (option === '--') return undefined;
    if (!option.startsWith('-') || option.includes('=')) continue;
    // yargs takes a negative number as a value (--lock-timeout -5 is then refused as a number).
    if (!value.startsWith('-') || value === '--' || /^-\d/.test(value) || valuesOf(option.replace(/^-+/, '')) === undefined) continue;
    return { message: `${option} needs a value, and ${value} was taken for an option`, hint: `a value that starts with a dash goes after '=': ${option}=${value}` };
  }
  return undefined;
}
