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
  let first = -1;
  for (let i = 0; i < argv.length && first === -1; i++) {
    const word = argv[i] as string;
    if (word === '--') return [...argv];
    if (!word.startsWith('-')) first = i;
    else if (!word.includes('=') && valuesOf(word.replace(/^-+/, '')) === 'one') i++;
  }
  if (first === -1) return [...argv];
  const word = argv[first];
  const before = argv.slice(0, first);
  const after = argv.slice(first + 1);
  if (word === 'help') return [...before, ...after, '--help'];
  if (word === 'version' && after.length === 0) return [...before, '--version'];
  return [...argv];
}

/**
 * An option that takes a value followed straight by a dash word: yargs
 * would take the word for an option of its own (`--arg -v`: "Unknown
 * argument: v", or the version), so the run is refused with the spelling
 * that works (`--arg=-v`). `takesValue` says which option names take a value.
 */
export function dashValue(argv: readonly string[], valuesOf: ValuesOf): { message: string; hint: string } | undefined {
  for (let i = 0; i + 1 < argv.length; i++) {
    const option = argv[i] as string;
    const value = argv[i + 1] as string;
    if (option === '--') return undefined;
    if (!option.startsWith('-') || option.includes('=')) continue;
    if (!value.startsWith('-') || value === '--' || valuesOf(option.replace(/^-+/, '')) === undefined) continue;
    return { message: `${option} needs a value, and ${value} was taken for an option`, hint: `a value that starts with a dash goes after '=': ${option}=${value}` };
  }
  return undefined;
}
