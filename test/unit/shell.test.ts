import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { RenderError } from '../../installer/model/errors.js';
import { shellQuote, shellWord } from '../../installer/lib/shell.js';
import { parseShellQuoted } from '../../installer/plan/hop-installed.js';

/** What /bin/sh makes of a script that prints its words NUL-separated. */
function shWords(words: string, vars: Record<string, string> = {}): string[] {
  const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${words}`], { env: { PATH: '/usr/bin:/bin', ...vars }, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

// No control characters: shellQuote refuses them (as php.ts does).
const printable = fc.string({ unit: fc.oneof(fc.constantFrom("'", '"', '\\', '$', '`', ';', ' ', '*', '?', '[', '~', '!', '-', '%', '{', '}', '(', ')'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), fc.constantFrom('é', '日', '🎉')) }).filter(
  (s) => !/[\u0000-\u001f\u007f]/.test(s),
);

describe('shellQuote', () => {
  it('is one word that sh reads back byte for byte', () => {
    fc.assert(
      fc.property(fc.array(printable, { minLength: 1, maxLength: 8 }), (values) => {
        expect(shWords(values.map((v) => shellQuote(v)).join(' '))).toEqual(values);
      }),
      { numRuns: 60 },
    );
  });

  it('quotes every word, even one no shell would change: one form for scripts and printed commands', () => {
    expect(shellQuote('/usr/local/bin/kimaki')).toBe("'/usr/local/bin/kimaki'");
    expect(shellQuote('www-data')).toBe("'www-data'");
  });

  it("escapes ' as '\\''", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });

  it('round-trips through parseShellQuoted', () => {
    fc.assert(fc.property(printable, (v) => expect(parseShellQuoted(shellQuote(v))).toBe(v)));
    expect(parseShellQuoted("'a'b'")).toBeUndefined();
  });

  it('refuses control characters instead of encoding them', () => {
    expect(() => shellQuote('a\nb')).toThrow(RenderError);
    expect(() => shellQuote('a\0b')).toThrow(RenderError);
  });
});

describe('shellWord', () => {
  it('expands placeholders as quoted variables and nothing else', () => {
    expect(shellWord('--prompt={message}', { message: 'message' })).toBe(`'--prompt='"$message"`);
    expect(shellWord('{recipient}', { recipient: 'r' })).toBe('"$r"');
    expect(shellWord('{other}', { recipient: 'r' })).toBe("'{other}'");
    expect(shellWord('', {})).toBe("''");
  });

  it('keeps a hostile value one word, unexpanded', () => {
    const hostile = '-x $(touch /nonexistent/pwned) `id` ; \'"\n\\ * é';
    expect(shWords(shellWord('--prompt={message}', { message: 'message' }), { message: hostile })).toEqual([`--prompt=${hostile}`]);
  });
});
