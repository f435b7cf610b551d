/** The value of KEY in a dotenv file: `KEY=value`, optionally `export`ed and quoted; the last assignment wins. */
export function dotenvValue(text: string, key: string): string | undefined {
  let value: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m || m[1] !== key) continue;
    const v = m[2] ?? '';
    const quoted = /^(["'])(.*)\1$/.exec(v);
    value = quoted ? (quoted[2] ?? '') : v.replace(/\s+#.*$/, '');
  }
  return value;
}
