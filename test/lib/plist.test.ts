/** installer/lib/plist.ts: an installed plist read with the plist package, quietly. */
import { readPlistDict } from '../../installer/lib/plist.js';

const doc = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n${body}\n</plist>\n`;

it('reads the top-level dict: strings, arrays, nested dicts, booleans; a repeated key is its last value', () => {
  const text = doc('<dict><key>A</key><string>1</string><key>L</key><array><string>x</string><integer>2</integer></array><key>D</key><dict><key>K</key><string>v</string></dict><key>B</key><true/><key>A</key><string>2</string></dict>');
  expect(readPlistDict(text)).toEqual({ A: '2', L: ['x', 2], D: { K: 'v' }, B: true });
});

it('decodes entities, character references, CDATA, and skips comments', () => {
  expect(readPlistDict(doc('<dict><!-- note --><key>A</key><string>a&amp;lt;b &#38; &#x3C; <![CDATA[<c>]]></string></dict>'))).toEqual({ A: 'a&lt;b & < <c>' });
});

it.each([
  ['not XML', 'garbage'],
  ['mismatched tags', '<plist><dict><key>A</key><string>x</string></plist>'],
  ['no <plist> root', '<dict><key>A</key><string>x</string></dict>'],
  ['a top level that is not a dict', doc('<array><string>x</string></array>')],
])('%s: undefined, and nothing on the console', (_what, text) => {
  const saved = { error: console.error, warn: console.warn, log: console.log };
  const printed: unknown[] = [];
  console.error = console.warn = console.log = (...args: unknown[]) => printed.push(args);
  let value: unknown;
  try {
    value = readPlistDict(text);
  } finally {
    Object.assign(console, saved);
  }
  expect({ value, printed }).toEqual({ value: undefined, printed: [] });
  expect(console.error).toBe(saved.error); // put back
});
