/**
 * Reading a systemd unit file the way systemd reads it (systemd.syntax(7),
 * checked against systemd 252's own parse: `systemd --test` dumps what it
 * loaded, see test/integration/units.test.ts and test/helpers/systemd-reads.ts).
 * The one reader of unit text: parseSystemdUnit (units.ts) takes its
 * assignments, operator-lines.ts its lines as written. Pure.
 *
 * - Lines end at `\n`, `\r\n`, a lone `\r` or a NUL; a byte order mark
 *   opening the file is skipped.
 * - A line whose first non-blank character is `#` or `;` is a comment, even
 *   inside a continuation (where it is skipped, and does not continue itself).
 * - A line ending in an odd run of backslashes continues: the last backslash
 *   becomes a space and the next line is appended (at the end of the file
 *   too: the line is read as it stands).
 * - `Key=Value`: both sides stripped of blanks, which are space, tab, CR and
 *   LF only (a no-break space or a vertical tab is part of the value).
 * - systemd skips a line without `=`, one with nothing before it, and an
 *   assignment before the first section; a header without its closing `]`
 *   or with a quote, backslash or control character in it ends the read (the
 *   unit fails to load), so nothing after it is read either.
 */

export interface Assignment {
  section: string;
  key: string;
  value: string;
  /** 1-based line the assignment starts on. */
  line: number;
}

/** One line as systemd reads it, continuation lines joined, with the lines it was written as. */
export type UnitLine =
  | { kind: 'comment'; raw: string[] }
  | { kind: 'section'; name: string; raw: string[] }
  | ({ kind: 'assignment'; raw: string[] } & Assignment)
  /** A line systemd does not read (see above). */
  | { kind: 'ignored'; raw: string[] };

const WHITESPACE = /[ \t\n\r]/;
const strip = (s: string): string => s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
/** systemd's string_is_safe: what a section name may not hold. */
const UNSAFE_SECTION = /[\x00-\x1f"'\\\x7f]/;

/** Every non-blank line of a unit, in file order. */
export function unitLines(text: string): UnitLine[] {
  const out: UnitLine[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n|\0/);
  let section: string | undefined;
  let broken = false;
  let pending: { joined: string; raw: string[]; start: number } | undefined;
  const read = ({ joined, raw, start }: { joined: string; raw: string[]; start: number }): void => {
    const line = strip(joined);
    if (line === '') return;
    if (broken) {
      out.push({ kind: 'ignored', raw });
    } else if (line.startsWith('[')) {
      const name = line.slice(1, -1);
      if (!line.endsWith(']') || UNSAFE_SECTION.test(name)) {
        broken = true;
        out.push({ kind: 'ignored', raw });
      } else {
        section = name;
        out.push({ kind: 'section', name, raw });
      }
    } else {
      const eq = line.indexOf('=');
      if (section === undefined || eq <= 0) out.push({ kind: 'ignored', raw });
      else out.push({ kind: 'assignment', section, key: strip(line.slice(0, eq)), value: strip(line.slice(eq + 1)), line: start, raw });
    }
  };
  for (const [i, l] of lines.entries()) {
    if (/^[ \t\n\r]*[#;]/.test(l)) {
      if (pending) pending.raw.push(l);
      else out.push({ kind: 'comment', raw: [l] });
      continue;
    }
    const current = pending ? { ...pending, joined: pending.joined + l, raw: [...pending.raw, l] } : { joined: l, raw: [l], start: i + 1 };
    pending = undefined;
    if (endsInOddBackslashes(current.joined)) pending = { ...current, joined: `${current.joined.slice(0, -1)} ` };
    else read(current);
  }
  if (pending) read(pending);
  return out;
}

/** Every assignment, in file order, continuation lines joined. */
export function unitAssignments(text: string): Assignment[] {
  return unitLines(text).flatMap((l) => (l.kind === 'assignment' ? [{ section: l.section, key: l.key, value: l.value, line: l.line }] : []));
}

/** Whether a line ends in an unescaped backslash (systemd pairs backslashes from the line's start). */
export function endsInOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

export interface Word {
  /** The word after unquoting and unescaping. */
  value: string;
  /** The word as written (a lone unquoted `;` separates ExecStart commands). */
  raw: string;
}

/**
 * Split a value into words as systemd's extract_first_word does with
 * EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE: quotes may open anywhere in a word,
 * C escapes are decoded inside and outside quotes. `relaxed` (ExecStart=)
 * keeps an unknown escape as written; strict (Environment=) rejects the
 * whole value, as systemd ignores the whole line. undefined: invalid syntax.
 */
export function splitWords(value: string, relaxed: boolean): Word[] | undefined {
  const words: Word[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && WHITESPACE.test(value[i] as string)) i++;
    if (i >= value.length) break;
    const begin = i;
    let word = '';
    let quote: string | undefined;
    for (; i < value.length; i++) {
      const c = value[i] as string;
      if (quote === undefined && WHITESPACE.test(c)) break;
      if (c === '\\') {
        // ExecStart= only: an unquoted `\;` is a literal semicolon, not a separator.
        const decoded = relaxed && quote === undefined && value[i + 1] === ';' ? { text: ';', length: 1 } : unescapeOne(value, i + 1);
        if (decoded) {
          word += decoded.text;
          i += decoded.length;
        } else if (relaxed && i + 1 < value.length) {
          word += c + (value[i + 1] as string);
          i++;
        } else {
          return undefined;
        }
        continue;
      }
      if (quote !== undefined && c === quote) quote = undefined;
      else if (quote === undefined && (c === '"' || c === "'")) quote = c;
      else word += c;
    }
    if (quote !== undefined) return undefined; // unbalanced quoting: systemd ignores the line
    words.push({ value: word, raw: value.slice(begin, i) });
  }
  return words;
}

const SIMPLE: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };

/** One C escape after a backslash at `at`: its text and how many characters it used, or undefined when unknown. */
function unescapeOne(s: string, at: number): { text: string; length: number } | undefined {
  const c = s[at];
  if (c === undefined) return undefined;
  const simple = SIMPLE[c];
  if (simple !== undefined) return { text: simple, length: 1 };
  const hex = (n: number): number | undefined => {
    const digits = s.slice(at + 1, at + 1 + n);
    return digits.length === n && /^[0-9a-fA-F]+$/.test(digits) ? parseInt(digits, 16) : undefined;
  };
  let code: number | undefined;
  let length = 0;
  if (c === 'x') [code, length] = [hex(2), 3];
  else if (c === 'u') [code, length] = [hex(4), 5];
  else if (c === 'U') [code, length] = [hex(8), 9];
  else if (/[0-7]/.test(c)) {
    const digits = s.slice(at, at + 3);
    if (/^[0-7]{3}$/.test(digits)) [code, length] = [parseInt(digits, 8), 3];
  }
  // systemd refuses \x00 and code points beyond Unicode.
  if (code === undefined || code === 0 || code > 0x10ffff) return undefined;
  return { text: String.fromCodePoint(code), length };
}

/** `%%` is a literal percent sign; other specifiers are left as written (their values belong to the running system). */
export function unSpecifier(value: string): string {
  return value.replace(/%%/g, '%');
}
