/**
 * Hard-wrapping for doctor's text output: to the terminal's columns when
 * stdout is one, else to NON_TTY_WIDTH (a log or a mail reads ~250-column
 * lines badly). Words are never split: a path or a word longer than the
 * room overflows rather than breaking into something that no longer names it.
 */

/** Width when stdout is not a terminal (or its columns are unknown). */
export const NON_TTY_WIDTH = 100;

/** Below this, continuation lines drop their hanging indent to this many columns: room for words matters more. */
const MIN_ROOM = 30;

/** The width output wraps to: the terminal's columns, else NON_TTY_WIDTH. */
export function outputWidth(isTTY: boolean | undefined, columns: number | undefined): number {
  return isTTY === true && columns !== undefined && Number.isInteger(columns) && columns > 0 ? columns : NON_TTY_WIDTH;
}

/** `first` (its visible length `firstWidth`, which may hold colour codes) then `text`, wrapped at spaces; later lines start with `indent` spaces. */
export function wrapWords(first: string, firstWidth: number, text: string, width: number, indent: number): string[] {
  return wrapTokens(first, firstWidth, text.split(' ').filter((w) => w !== ''), width, indent, () => false);
}

/** Words that start a command in a fix line; prose before them ("grant www-data's group write access:") is wrapped as words. */
const COMMAND_HEADS = new Set(['bridgectl', 'sudo', 'chmod', 'chgrp', 'chown', 'install', 'find', 'apt-get', 'setfacl', 'mkdir', 'rm', 'mv', 'systemctl']);

/**
 * A fix line wrapped as the shell reads it: a line broken inside a command
 * ends in ` \`, so a copied block still runs as one command; a break in
 * the prose around commands ("…, or", a lead-in ending in ':') needs none.
 * Breaks only between words, never inside a single-quoted word
 * (lib/shell.ts's quoting, which may hold spaces); an apostrophe inside a
 * word (prose: "www-data's") does not open a quote.
 */
export function wrapCommand(first: string, firstWidth: number, command: string, width: number, indent: number): string[] {
  const words = shellWords(command);
  // Whether a break after word i falls inside a command: from a command's first word to the word that ends it (';').
  const inside: boolean[] = [];
  let open = false;
  for (const [i, word] of words.entries()) {
    if (!open && COMMAND_HEADS.has(word)) open = true;
    if (open && (word.endsWith(';') || i === words.length - 1)) open = false;
    inside.push(open);
  }
  return wrapTokens(first, firstWidth, words, width, indent, (i) => inside[i] === true);
}

/** The command's words, a single-quoted span that holds spaces kept as one. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let open: string | undefined;
  for (const part of command.split(' ')) {
    if (open !== undefined) {
      open += ` ${part}`;
      if (part.endsWith("'")) {
        words.push(open);
        open = undefined;
      }
    } else if (part.startsWith("'") && (part.length === 1 || !part.endsWith("'") || part.endsWith("\\'"))) {
      open = part;
    } else if (part !== '') {
      words.push(part);
    }
  }
  if (open !== undefined) words.push(open);
  return words;
}

/** `continues(i)`: whether a break after word i needs ` \\` (inside a command). */
function wrapTokens(first: string, firstWidth: number, words: readonly string[], width: number, indent: number, continues: (i: number) => boolean): string[] {
  const TAIL = ' \\';
  const hang = width - indent < MIN_ROOM ? Math.min(indent, 6) : indent;
  const lines: string[] = [];
  let line = first;
  let used = firstWidth;
  let empty = true;
  for (const [i, word] of words.entries()) {
    // Room for the continuation mark this word would need if the line broke after it.
    const mark = i < words.length - 1 && continues(i) ? TAIL.length : 0;
    const fits = used + (empty ? 0 : 1) + word.length + mark <= width;
    if (!empty && !fits) {
      lines.push(line + (continues(i - 1) ? TAIL : ''));
      line = ' '.repeat(hang) + word;
      used = hang + word.length;
      continue;
    }
    line += (empty ? '' : ' ') + word;
    used += (empty ? 0 : 1) + word.length;
    empty = false;
  }
  lines.push(line);
  return lines;
}
