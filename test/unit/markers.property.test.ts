/**
 * The marker engine's contract as properties (fast-check), over files with
 * arbitrary text around the region, LF/CRLF mixes, BOMs and missing final
 * newlines:
 *   install∘install = install
 *   bytes outside the touched block are preserved
 *   uninstall∘install = original (for a file without that block)
 */
import fc from 'fast-check';
import { listBlocks, removeBlock, upsertBlock } from '../../installer/render/markers.js';

const ID = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,11}$/);
const EOL = fc.constantFrom('\n', '\r\n');

/** A line that is not (and does not look like) a marker, with no line break in it. */
const PLAIN_LINE = fc
  .oneof(
    fc.string({ unit: fc.constantFrom('a', 'z', ' ', '\t', '$', ';', '/', '*', "'", '(', ')', '<', '?', 'é', '€', '😀', '\r'), maxLength: 30 }),
    fc.constantFrom('<?php', '    return $channels;', '} );', '', '// a comment', '/* BEGIN bridges? no */', '// BEGINNING', '    // ENDgame'),
  )
  .filter((l) => !/^\s*\/\/\s*(BEGIN|END)\s*bridge/i.test(l) && !l.endsWith('\r'));

// Rendered bodies never contain a CR (the engine refuses one).
const BODY_LINE = PLAIN_LINE.filter((l) => !l.includes('\r'));
const BODY = fc.array(BODY_LINE, { maxLength: 4 });

interface Doc {
  text: string;
  ids: string[];
}

/** A whole managed file: lines with their own terminators, a region with blocks, maybe a BOM, maybe no final newline. */
const DOC: fc.Arbitrary<Doc> = fc
  .record({
    bom: fc.boolean(),
    before: fc.array(fc.tuple(PLAIN_LINE, EOL), { maxLength: 5 }),
    indent: fc.constantFrom('', '    ', '\t'),
    regionEols: fc.tuple(EOL, EOL),
    blocks: fc.uniqueArray(fc.tuple(ID, BODY, EOL), { selector: ([id]) => id, maxLength: 4 }),
    after: fc.array(fc.tuple(PLAIN_LINE, EOL), { maxLength: 5 }),
    finalNewline: fc.boolean(),
    trailingSpace: fc.constantFrom('', ' ', '\t '),
  })
  .map((d) => {
    const out: string[] = [];
    if (d.bom) out.push('\uFEFF');
    for (const [l, e] of d.before) out.push(l, e);
    out.push(`${d.indent}// BEGIN bridges${d.trailingSpace}`, d.regionEols[0]);
    for (const [id, body, e] of d.blocks) {
      out.push(`${d.indent}// BEGIN bridge:${id}${d.trailingSpace}`, e);
      for (const l of body) out.push(l, e);
      out.push(`${d.indent}// END bridge:${id}`, e);
    }
    out.push(`${d.indent}// END bridges`, d.after.length > 0 || d.finalNewline ? d.regionEols[1] : '');
    d.after.forEach(([l, e], i) => out.push(l, i === d.after.length - 1 && !d.finalNewline ? '' : e));
    return { text: out.join(''), ids: d.blocks.map(([id]) => id) };
  });

const RUNS = { numRuns: process.env.BRIDGECTL_SLOW === "1" ? 5000 : 300 };

describe('marker engine properties', () => {
  it('install∘install = install', () => {
    fc.assert(
      fc.property(DOC, ID, BODY, (doc, id, body) => {
        const once = upsertBlock(doc.text, id, body);
        expect(upsertBlock(once, id, body)).toBe(once);
        expect(listBlocks(once).filter((b) => b.id === id)).toHaveLength(1); // never a duplicate
      }),
      RUNS,
    );
  });

  it('preserves every byte outside the touched block', () => {
    fc.assert(
      fc.property(DOC, ID, BODY, (doc, id, body) => {
        const out = upsertBlock(doc.text, id, body);
        // Taking the block out of both leaves the same bytes: nothing else moved.
        expect(removeBlock(out, id)).toBe(removeBlock(doc.text, id));
        // The other blocks are untouched, in order.
        const others = (text: string): unknown => listBlocks(text).filter((b) => b.id !== id);
        expect(others(out)).toEqual(others(doc.text));
        expect(listBlocks(out).find((b) => b.id === id)?.body).toEqual(body);
      }),
      RUNS,
    );
  });

  it('uninstall∘install = original for a file without that block', () => {
    fc.assert(
      fc.property(DOC, ID, BODY, (doc, id, body) => {
        fc.pre(!doc.ids.includes(id));
        expect(removeBlock(upsertBlock(doc.text, id, body), id)).toBe(doc.text);
      }),
      RUNS,
    );
  });

  it('writes new lines with the line ending of the region end, whatever the mix elsewhere', () => {
    fc.assert(
      fc.property(DOC, ID, fc.array(BODY_LINE, { minLength: 1, maxLength: 3 }), (doc, id, body) => {
        fc.pre(!doc.ids.includes(id));
        const out = upsertBlock(doc.text, id, body);
        const endEol = /\/\/ END bridges[ \t]*(\r?\n|$)/.exec(doc.text)?.[1];
        const expected = endEol || /\r?\n/.exec(doc.text)?.[0] || '\n';
        const begin = new RegExp(`// BEGIN bridge:${id}(\r?\n)`).exec(out);
        expect(begin?.[1]).toBe(expected);
        // Every line of the new block carries that ending.
        const block = out.slice(begin?.index ?? 0, out.indexOf(`// END bridge:${id}`, begin?.index ?? 0));
        expect(block.split(expected)).toHaveLength(body.length + 2);
      }),
      RUNS,
    );
  });

  it('removing an absent block is the identity', () => {
    fc.assert(
      fc.property(DOC, ID, (doc, id) => {
        fc.pre(!doc.ids.includes(id));
        expect(removeBlock(doc.text, id)).toBe(doc.text);
      }),
      RUNS,
    );
  });
});
