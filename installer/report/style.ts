/**
 * Terminal colour, decided once per run: only when stdout is a TTY, never
 * when NO_COLOR is set to anything (no-color.org) or TERM is dumb. Pure.
 */
export interface Style {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
}

export function colorWanted(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string): string => text;

export function makeStyle(color: boolean): Style {
  if (!color) return { red: plain, green: plain, yellow: plain, cyan: plain, bold: plain };
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39), bold: sgr(1, 22) };
}

/** A unified diff with removed lines red, added lines green, hunk headers cyan. */
export function paintDiff(diff: string, style: Style): string {
  return diff
    .split('\n')
    .map((line) =>
      line.startsWith('+++') || line.startsWith('---')
        ? style.bold(line)
        : line.startsWith('+')
          ? style.green(line)
          : line.startsWith('-')
            ? style.red(line)
            : line.startsWith('@@')
              ? style.cyan(line)
              : line,
    )
    .join('\n');
}
