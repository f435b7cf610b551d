/**
 * PHP literals for the channel block. Pure.
 *
 * Values are single-quoted literals, where only `\` and `'` are special.
 * Control characters (C0, DEL) are refused rather than encoded: no path,
 * argument or env value we manage has a legitimate one, and refusing keeps
 * every block one line per entry, which the marker engine relies on. A
 * single-quoted literal is inert to `?>`, `*\/`, `$` and unicode, so those
 * render verbatim.
 */
import { RenderError } from '../model/errors.js';

export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export function assertRenderable(value: string, what: string): void {
  const bad = CONTROL_CHARACTER.exec(value);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(2, '0');
    throw new RenderError(
      `${what} contains control character U+00${code.toUpperCase()} at offset ${bad.index}: ${JSON.stringify(value)}`,
      'line breaks, NUL and other control characters cannot appear in a managed file; remove them from the value',
    );
  }
}

export function phpString(value: string, what = 'value'): string {
  assertRenderable(value, what);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `[ 'a', 'b' ]`, or `[]` when empty. */
export function phpList(values: readonly string[], what = 'list item'): string {
  if (values.length === 0) return '[]';
  return `[ ${values.map((v) => phpString(v, what)).join(', ')} ]`;
}

/** `[ 'K' => 'v', … ]` in the given order, or `[]` when empty. */
export function phpMap(entries: readonly (readonly [string, string])[], what = 'map'): string {
  if (entries.length === 0) return '[]';
  const parts = entries.map(([k, v]) => `${phpString(k, `${what} key`)} => ${phpString(v, `${what} value of ${k}`)}`);
  return `[ ${parts.join(', ')} ]`;
}

/**
 * Read back a single-quoted literal as rendered above (used when adopting an
 * installed block). Returns undefined for anything else.
 */
export function parsePhpString(literal: string): string | undefined {
  const m = /^'((?:[^'\\]|\\.)*)'$/s.exec(literal);
  if (!m) return undefined;
  return (m[1] ?? '').replace(/\\([\\'])/g, '$1');
}

/** Read back `[ 'K' => 'v', … ]`. Returns undefined when it is not exactly that shape. */
export function parsePhpMap(literal: string): [string, string][] | undefined {
  const trimmed = literal.trim();
  if (trimmed === '[]') return [];
  if (!trimmed.startsWith('[') || !trimmed.endsWith(']')) return undefined;
  const entry = /\s*('(?:[^'\\]|\\.)*')\s*=>\s*('(?:[^'\\]|\\.)*')\s*(,|$)/gsy;
  const inner = trimmed.slice(1, -1);
  const out: [string, string][] = [];
  entry.lastIndex = 0;
  while (entry.lastIndex < inner.length) {
    const m = entry.exec(inner);
    if (!m) return inner.slice(entry.lastIndex).trim() === '' ? out : undefined;
    const k = parsePhpString(m[1] ?? '');
    const v = parsePhpString(m[2] ?? '');
    if (k === undefined || v === undefined) return undefined;
    out.push([k, v]);
  }
  return out;
}

/** Read back `[ 'a', 'b' ]`. */
export function parsePhpList(literal: string): string[] | undefined {
  const trimmed = literal.trim();
  if (trimmed === '[]') return [];
  if (!trimmed.startsWith('[') || !trimmed.endsWith(']')) return undefined;
  const item = /\s*('(?:[^'\\]|\\.)*')\s*(,|$)/gsy;
  const inner = trimmed.slice(1, -1);
  const out: string[] = [];
  while (item.lastIndex < inner.length) {
    const m = item.exec(inner);
    if (!m) return inner.slice(item.lastIndex).trim() === '' ? out : undefined;
    const v = parsePhpString(m[1] ?? '');
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}
