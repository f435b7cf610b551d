import { MarkerError, RenderError } from '../../installer/model/errors.js';
import { listBlocks, parseManaged, readBlock, removeBlock, spliceBlocks, upsertBlock } from '../../installer/render/markers.js';

const file = (...region: string[]): string =>
  ['<?php', 'add_filter( "x", function ( $c ) {', '    // BEGIN bridges', ...region, '    // END bridges', '    return $c;', '} );', ''].join('\n');

const block = (id: string, ...body: string[]): string[] => [`    // BEGIN bridge:${id}`, ...body, `    // END bridge:${id}`];

describe('upsertBlock', () => {
  it('inserts a new block just before // END bridges', () => {
    const out = upsertBlock(file(), 'kimaki', ['    $a = 1;']);
    expect(out).toBe(file(...block('kimaki', '    $a = 1;')));
  });

  it('replaces an existing block in place and keeps its neighbours byte for byte', () => {
    const before = file(...block('a', '    // a'), ...block('kimaki', '    old();'), ...block('z', '    // z'));
    const out = upsertBlock(before, 'kimaki', ['    new();', '    more();']);
    expect(out).toBe(file(...block('a', '    // a'), ...block('kimaki', '    new();', '    more();'), ...block('z', '    // z')));
  });

  it('is idempotent', () => {
    const once = upsertBlock(file(), 'kimaki', ['x']);
    expect(upsertBlock(once, 'kimaki', ['x'])).toBe(once);
  });

  it('keeps CRLF line endings, and never duplicates the block', () => {
    const crlf = file(...block('kimaki', 'old')).replace(/\n/g, '\r\n');
    const out = upsertBlock(crlf, 'kimaki', ['new']);
    expect(out).toBe(file(...block('kimaki', 'new')).replace(/\n/g, '\r\n'));
    expect(out.match(/BEGIN bridge:kimaki/g)).toHaveLength(1);
  });

  it('keeps a missing final newline', () => {
    const text = file().replace(/\n$/, '');
    expect(upsertBlock(text, 'k', ['x']).endsWith('} );')).toBe(true);
  });

  it('keeps a UTF-8 BOM', () => {
    const out = upsertBlock('\uFEFF' + file(), 'k', ['x']);
    expect(out.startsWith('\uFEFF<?php\n')).toBe(true);
  });

  it('treats ids as whole words: kimaki is not kimaki-2', () => {
    const text = file(...block('kimaki-2', 'two'));
    const out = upsertBlock(text, 'kimaki', ['one']);
    expect(readBlock(parseManaged(out), 'kimaki-2')).toEqual(['two']);
    expect(readBlock(parseManaged(out), 'kimaki')).toEqual(['one']);
  });

  it('accepts markers with trailing whitespace and rewrites them clean', () => {
    const text = file('    // BEGIN bridge:k   ', 'old', '    // END bridge:k\t');
    expect(upsertBlock(text, 'k', ['new'])).toBe(file(...block('k', 'new')));
  });

  it('refuses a body line that would read as a marker', () => {
    expect(() => upsertBlock(file(), 'k', ['    // END bridge:k'])).toThrow(RenderError);
    expect(() => upsertBlock(file(), 'k', ['    // END bridges'])).toThrow(RenderError);
    expect(() => upsertBlock(file(), 'k', ['a\nb'])).toThrow(RenderError);
  });
});

describe('removeBlock', () => {
  it('removes exactly that block', () => {
    const text = file(...block('a', '1'), ...block('b', '2'));
    expect(removeBlock(text, 'a')).toBe(file(...block('b', '2')));
  });

  it('is a no-op for an absent block', () => {
    expect(removeBlock(file(), 'nope')).toBe(file());
  });
});

describe('spliceBlocks', () => {
  it('applies many changes in one pass, in the order given for new blocks', () => {
    const text = file(...block('a', '1'));
    const out = spliceBlocks(text, [
      { id: 'c', body: ['3'] },
      { id: 'a', body: null },
      { id: 'b', body: ['2'] },
    ]);
    expect(listBlocks(out).map((b) => b.id)).toEqual(['c', 'b']);
  });

  it('returns the text itself when every block is already as it would be written, and rewrites one that is not', () => {
    const text = ['<?php', '    // BEGIN bridges', '    // BEGIN bridge:k', '    $a = 1;', '    // END bridge:k', '    // END bridges', ''].join('\n');
    expect(spliceBlocks(text, [{ id: 'k', body: ['    $a = 1;'] }])).toBe(text);
    expect(spliceBlocks(text, [{ id: 'absent', body: null }])).toBe(text);
    // The same body, but a CRLF line and other indentation: written anew, with the region's ending and indent.
    const crlf = text.replace('    $a = 1;\n', '    $a = 1;\r\n').replace('    // BEGIN bridge:k', '// BEGIN bridge:k');
    expect(spliceBlocks(crlf, [{ id: 'k', body: ['    $a = 1;'] }])).toBe(text);
  });
});

describe('damaged structure is refused with the line', () => {
  const cases: [string, string, RegExp][] = [
    ['no region', '<?php\n$x = 1;\n', /not one bridgectl manages/],
    ['BEGIN bridges without END', '<?php\n// BEGIN bridges\n', /line 2: .*no matching '\/\/ END bridges'/],
    ['END bridges before BEGIN', '// END bridges\n// BEGIN bridges\n', /line 1: /],
    ['two regions', '// BEGIN bridges\n// END bridges\n// BEGIN bridges\n// END bridges\n', /line 3: second/],
    ['BEGIN with no END', file('    // BEGIN bridge:k', 'x'), /line 4: .*bridge:k' has no matching END/],
    ['BEGIN then another BEGIN', file('    // BEGIN bridge:a', '    // BEGIN bridge:b', '    // END bridge:b'), /line 4: .*bridge:a/],
    ['END with no BEGIN', file('    // END bridge:k'), /line 4: .*no BEGIN/],
    ['END closes another block', file('    // BEGIN bridge:a', '    // END bridge:b'), /line 5: .*closes 'bridge:a'/],
    ['duplicate ids', file(...block('k', '1'), ...block('k', '2')), /line 7: second block 'bridge:k' \(the first begins on line 4\)/],
    ['block outside the region', '<?php\n// BEGIN bridge:k\n// END bridge:k\n// BEGIN bridges\n// END bridges\n', /line 2: .*outside/],
    ['malformed marker', file('    //BEGIN bridge:k', '    // END bridge:k'), /line 4: malformed marker/],
    ['invalid id', file('    // BEGIN bridge:Kimaki!', '    // END bridge:Kimaki!'), /line 4: invalid block id/],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    expect(() => parseManaged(text)).toThrow(MarkerError);
    expect(() => parseManaged(text)).toThrow(message);
    expect(() => upsertBlock(text, 'kimaki', ['x'])).toThrow(MarkerError);
  });
});
