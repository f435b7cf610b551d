/**
 * Reading a systemd unit file the way systemd reads it (systemd.syntax(7),
 * checked against systemd 252's own parse: `systemd --test` dumps what it
 * loaded, see test/integration/units.test.ts and test/helpers/systemd-reads.ts). Pure.
 *
 * - A line whose first non-blank character is `#` or `;` is a comment, even
 *   inside a continuation.
 * - A line ending in an odd run of backslashes continues: the last backslash
 *   becomes a space and the next line is appended.
 * - `Key=Value`: both sides stripped of surrounding whitespace.
 */

export interface Assignment {
  section: string | undefined;
  key: string;
  value: string;
  /** 1-based line the assignment starts on. */
  line: number;
}

const WHITESPACE = /[ \t\n\r]/;

/** Every assignment, in file order, continuation lines joined. */
export function unitAssignments(text: string): Assignment[] {
  const out: Assignment[] = [];
  let section: string | undefined;
  let continuation: string | undefined;
  let start = 0;
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lead = l.replace(/^[ \t\n\r]+/, '');
    if (lead.startsWith('#') || lead.startsWith(';')) continue;
    if (continuation === undefined) start = i + 1;
    let joined = continuation === undefined ? l : continuation + l;
    continuation = undefined;
    if (endsInOddBackslashes(joined)) {
      joined = `${joined.slice(0, -1)} `;
      if (i < lines.length - 1) {
        continuation = joined;
        continue;
      }
    }
    const line = joined.trim();
    if (line === '') continue;
    if (line.startsWith('[')) {
      section = line.endsWith(']') ? line.slice(1, -1) : undefined;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: start });
  }
  return out;
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
