import { RenderError } from '../../installer/model/errors.js';
import { parsePhpList, parsePhpMap, parsePhpString, phpList, phpMap, phpString } from '../../installer/lib/php.js';

describe('phpString', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['C:\\path\\', "'C:\\\\path\\\\'"],
    ["\\'", "'\\\\\\''"],
    ['?> <?php */ /* $x {message}', "'?> <?php */ /* $x {message}'"],
    ['ünïcødé ✓ 🚀', "'ünïcødé ✓ 🚀'"],
    ['', "''"],
  ])('%j renders as %s', (value, literal) => {
    expect(phpString(value)).toBe(literal);
    expect(parsePhpString(literal)).toBe(value);
  });

  it.each(['a\nb', 'a\rb', 'a\0b', 'tab\there', 'del\x7f', 'esc\x1b[0m'])('refuses control characters in %j', (value) => {
    expect(() => phpString(value, 'command')).toThrow(RenderError);
    expect(() => phpString(value, 'command')).toThrow(/command contains control character U\+00[0-9A-F]{2}/);
  });

  it('accepts unicode line separators, which are not line breaks to PHP or the marker engine', () => {
    expect(phpString('a\u2028b')).toBe("'a\u2028b'");
  });
});

describe('lists and maps', () => {
  it('renders the historical args list', () => {
    expect(phpList(['send', '--channel', '{recipient}'])).toBe("[ 'send', '--channel', '{recipient}' ]");
    expect(phpList([])).toBe('[]');
  });

  it('renders an env map in the given order', () => {
    expect(phpMap([['HOME', '/home/o'], ['A', "x'y"]])).toBe("[ 'HOME' => '/home/o', 'A' => 'x\\'y' ]");
  });

  it('reads back what it renders', () => {
    const entries: [string, string][] = [['K', "a, 'b' => c"], ['HOME', '\\']];
    expect(parsePhpMap(phpMap(entries))).toEqual(entries);
    const items = ["x', 'y", '', ' ] ['];
    expect(parsePhpList(phpList(items))).toEqual(items);
  });

  it('refuses to read back anything else', () => {
    expect(parsePhpMap("[ 'K' => $x ]")).toBeUndefined();
    expect(parsePhpList("[ 'a' . 'b' ]")).toBeUndefined();
    expect(parsePhpString('"double"')).toBeUndefined();
  });
});
