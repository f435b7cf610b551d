/**
 * POSIX shell words: the one quoter, for the scripts bridgectl renders (the
 * sudo hop's wrapper and target) and for the commands it prints (doctor's
 * fixes, `channel list`). Pure.
 *
 * A value becomes one single-quoted word, always, where nothing is special;
 * a `'` inside it is written as `'\''` (close, escaped quote, reopen). Always
 * quoted, never bare when it could be: the hop's target is read back as a
 * single-quoted word (plan/hop-installed.ts parseShellQuoted), and its bytes must
 * not change under an installed hop. Control characters are refused as in
 * php.ts: no path, user name or argument we render has a legitimate one, a
 * newline would split a script's line or a printed command, and a NUL
 * cannot be passed to a shell at all.
 */
import { assertRenderable } from './php.js';

export function shellQuote(value: string, what = 'value'): string {
  assertRenderable(value, what);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One shell word from a template whose `{name}` placeholders become
 * double-quoted expansions of shell variables: `--prompt={message}` with
 * `{ message: 'message' }` → `'--prompt='"$message"`. The literal parts are
 * single-quoted, so nothing in them is expanded. Placeholders not in `vars`
 * are kept as literal text.
 */
export function shellWord(template: string, vars: Readonly<Record<string, string>>, what = 'argument'): string {
  const parts: string[] = [];
  let literal = '';
  let rest = template;
  const placeholder = /\{([a-z_]+)\}/;
  for (let m = placeholder.exec(rest); m; m = placeholder.exec(rest)) {
    literal += rest.slice(0, m.index);
    const variable = vars[m[1] ?? ''];
    if (variable === undefined) {
      literal += m[0];
    } else {
      if (!/^[a-z_][a-z0-9_]*$/.test(variable)) throw new Error(`internal: bad shell variable name ${JSON.stringify(variable)}`);
      if (literal !== '') parts.push(shellQuote(literal, what));
      literal = '';
      parts.push(`"$${variable}"`);
    }
    rest = rest.slice(m.index + m[0].length);
  }
  literal += rest;
  if (literal !== '' || parts.length === 0) parts.push(shellQuote(literal, what));
  return parts.join('');
}
