/**
 * The marker engine's fast paths (docs/performance.md) against the
 * algorithms they replaced, kept here as references:
 * - splitLines splits natively and fixes up CRLF lines;
 * - spliceBlocks returns its input untouched when every wanted block is
 *   already there exactly as it would be written (the no-op upgrade on
 *   every deploy);
 * - parseManaged remembers its last result;
 * - parse hops from one '//' to the next instead of visiting every line,
 *   tries the block marker first and splits the lines only on first use
 *   (compared with the per-line closure it replaced, errors included);
 * - readBlock and the no-op splice read the block from text offsets;
 * - registersChannels knows the planned block count from channelsChange
 *   instead of parsing the planned text again.
 * Checked on random files with mixed line endings, indentation and missing
 * final newlines.
 */
import fc from 'fast-check';
import { channelsChange, registersChannels } from '../../installer/plan/engine.js';
import { MarkerError } from '../../installer/model/errors.js';
import { BLOCK_ID, listBlocks, parseManaged, readBlock, splitLines, spliceBlocks, type BlockChange, type Block, type ManagedText } from '../../installer/render/markers.js';

/** splitLines as it was: one indexOf and slice per line. */
function referenceSplitLines(text: string): { lines: string[]; eols: string[] } {
  const lines: string[] = [];
  const eols: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      lines.push(text.slice(start));
      eols.push('');
      break;
    }
    const crlf = nl > start && text.charCodeAt(nl - 1) === 13;
    lines.push(text.slice(start, crlf ? nl - 1 : nl));
    eols.push(crlf ? '\r\n' : '\n');
    start = nl + 1;
  }
  return { lines, eols };
}

it('splitLines splits as the line-by-line loop did', () => {
  const textArb = fc.array(fc.constantFrom('a', 'bc', '\n', '\r', '\r\n', '', ' \t', '\u00e9', '\uFEFF'), { maxLength: 12 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(textArb, (text) => {
      expect(splitLines(text)).toEqual(referenceSplitLines(text));
    }),
    { numRuns: 5000 },
  );
  for (const text of ['', '\n', '\r', '\r\n', 'a', 'a\n', 'a\r\n', '\n\n', 'a\r', 'a\r\r\n']) {
    expect(splitLines(text)).toEqual(referenceSplitLines(text));
  }
});

it('parseManaged gives the same answer twice, and a fresh one for other text', () => {
  const a = ['// BEGIN bridges', '// BEGIN bridge:x', '1', '// END bridge:x', '// END bridges', ''].join('\n');
  const b = a.replace('bridge:x', 'bridge:y').replace('bridge:x', 'bridge:y');
  expect(listBlocks(a)).toEqual([{ id: 'x', body: ['1'] }]);
  expect(listBlocks(b)).toEqual([{ id: 'y', body: ['1'] }]);
  expect(listBlocks(a)).toEqual([{ id: 'x', body: ['1'] }]);
  expect(parseManaged(a)).toBe(parseManaged(a));
});

/** The algorithm spliceBlocks always ran (before the shortcut), kept as the reference. */
function referenceSplice(text: string, changes: readonly BlockChange[]): string {
  const { lines, eols, regionEnd, blocks } = parseManaged(text);
  const wanted = new Map(changes.map((c) => [c.id, c.body]));
  const indent = /^([ \t]*)/.exec(lines[regionEnd] ?? '')?.[1] ?? '';
  const eol = eols[regionEnd] || eols.find((e) => e !== '') || '\n';
  const blockLines = (id: string, body: string[]) => [`${indent}// BEGIN bridge:${id}`, ...body, `${indent}// END bridge:${id}`];
  const out: string[] = [];
  const byBegin = new Map(blocks.map((b) => [b.begin, b]));
  for (let i = 0; i < lines.length; i++) {
    const block = byBegin.get(i);
    if (block && wanted.has(block.id)) {
      const body = wanted.get(block.id);
      wanted.delete(block.id);
      if (body) for (const line of blockLines(block.id, body)) out.push(line, eol);
      i = block.end;
      continue;
    }
    if (i === regionEnd) {
      for (const [id, body] of wanted) if (body) for (const line of blockLines(id, body)) out.push(line, eol);
      wanted.clear();
    }
    out.push(lines[i] ?? '', eols[i] ?? '');
  }
  return out.join('');
}

const eolArb = fc.constantFrom('\n', '\r\n');
const indentArb = fc.constantFrom('', '    ', '\t');
const bodyArb = fc.array(fc.constantFrom('    $a = 1;', "    'x' => 'y',", '', '  // note', '    ];'), { maxLength: 4 });
const idArb = fc.constantFrom('kimaki', 'cc-connect', 'telegram', 'a', 'b_2');

const fileArb = fc
  .record({
    blocks: fc.uniqueArray(fc.record({ id: idArb, body: bodyArb, indent: indentArb, eol: eolArb }), { selector: (b) => b.id, maxLength: 4 }),
    indent: indentArb,
    eol: eolArb,
    finalNewline: fc.boolean(),
  })
  .map(({ blocks, indent, eol, finalNewline }) => {
    const parts: string[] = ['<?php', 'add_filter( "x", function ( $c ) {', `${indent}// BEGIN bridges`];
    let text = parts.map((l) => l + eol).join('');
    for (const b of blocks) {
      text += [`${b.indent}// BEGIN bridge:${b.id}`, ...b.body, `${b.indent}// END bridge:${b.id}`].map((l) => l + b.eol).join('');
    }
    text += `${indent}// END bridges${eol}    return $c;${eol}} );${finalNewline ? eol : ''}`;
    return { text, blocks };
  });

it('the no-op shortcut gives what splicing line by line gives', () => {
  fc.assert(
    fc.property(fileArb, fc.array(fc.record({ id: idArb, keep: fc.boolean(), body: fc.option(bodyArb) }), { maxLength: 4 }), ({ text, blocks }, picks) => {
      // Mostly re-render what is there (the no-op), sometimes change or remove.
      const changes: BlockChange[] = picks.map((p) => {
        const existing = blocks.find((b) => b.id === p.id);
        return { id: p.id, body: p.keep && existing ? existing.body : p.body };
      });
      expect(spliceBlocks(text, changes)).toBe(referenceSplice(text, changes));
    }),
    { numRuns: 2000 },
  );
});

it('returns the very same text for a true no-op', () => {
  const text = ['<?php', '    // BEGIN bridges', '    // BEGIN bridge:kimaki', '    $a = 1;', '    // END bridge:kimaki', '    // END bridges', ''].join('\n');
  expect(spliceBlocks(text, [{ id: 'kimaki', body: ['    $a = 1;'] }])).toBe(text);
  expect(spliceBlocks(text, [{ id: 'absent', body: null }])).toBe(text);
});

it('registersChannels counts the planned blocks without parsing the planned text, and agrees with a parse', () => {
  fc.assert(
    fc.property(fileArb, fc.array(fc.record({ id: idArb, body: fc.option(bodyArb) }), { maxLength: 5 }), ({ text }, changes) => {
      const change = channelsChange({ path: '/x.php', text, mode: 0o644 }, changes);
      expect(registersChannels(change)).toBe(change.after !== null && listBlocks(change.after).length > 0);
    }),
    { numRuns: 2000 },
  );
  // Any FileChange (not from channelsChange) is still answered by parsing it.
  const planned = ['// BEGIN bridges', '// BEGIN bridge:x', '// END bridge:x', '// END bridges', ''].join('\n');
  expect(registersChannels({ path: '/x.php', status: 'update', before: '', after: planned, mode: 0o644 })).toBe(true);
  expect(registersChannels({ path: '/x.php', status: 'update', before: '', after: planned.replace(/.*bridge:x\n/g, ''), mode: 0o644 })).toBe(false);
});

// ---- parse: the per-line closure it replaced, with its regexes, as the reference.
const BLOCK_MARKER = /^([ \t]*)\/\/ (BEGIN|END) bridge:(\S+)[ \t]*$/;
const REGION_MARKER = /^([ \t]*)\/\/ (BEGIN|END) bridges[ \t]*$/;
const MARKER_LIKE = /^\s*\/\/\s*(BEGIN|END)\s*bridge/i;

function referenceParse(text: string): ManagedText {
  const { lines, eols } = referenceSplitLines(text);
  let regionBegin = -1;
  let regionEnd = -1;
  let open: Block | undefined;
  const blocks: Block[] = [];
  const seen = new Map<string, number>();

  // A NUL byte means this is not a text file we edit; found once, before the per-line scan skips most lines.
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    const lineNo = text.slice(0, nul).split('\n').length;
    throw new MarkerError('contains a NUL byte: this is not a text file bridgectl will edit', lineNo, 'restore the file from a backup, or move it aside');
  }

  lines.forEach((raw, i) => {
    if (!raw.includes('//')) return; // every marker pattern needs it; most lines lack it
    const lineNo = i + 1;
    // A UTF-8 BOM belongs to the file, not to a marker on its first line (it is kept as is).
    const line = i === 0 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    const region = REGION_MARKER.exec(line);
    if (region) {
      if (region[2] === 'BEGIN') {
        if (regionBegin !== -1) {
          throw new MarkerError(`second '// BEGIN bridges' (the first is on line ${regionBegin + 1})`, lineNo);
        }
        regionBegin = i;
        return;
      }
      if (regionBegin === -1) throw new MarkerError(`'// END bridges' before any '// BEGIN bridges'`, lineNo);
      if (regionEnd !== -1) {
        throw new MarkerError(`second '// END bridges' (the first is on line ${regionEnd + 1})`, lineNo);
      }
      if (open) {
        throw new MarkerError(`'// BEGIN bridge:${open.id}' has no matching END before '// END bridges'`, open.begin + 1);
      }
      regionEnd = i;
      return;
    }

    const marker = BLOCK_MARKER.exec(line);
    if (!marker) {
      if (MARKER_LIKE.test(line)) {
        throw new MarkerError(
          `malformed marker ${JSON.stringify(line.trim())}`,
          lineNo,
          "markers are whole lines: '// BEGIN bridge:<id>' / '// END bridge:<id>'",
        );
      }
      return;
    }
    const [, , kind, id = ''] = marker;
    if (!BLOCK_ID.test(id)) throw new MarkerError(`invalid block id ${JSON.stringify(id)}`, lineNo);
    if (regionBegin === -1 || regionEnd !== -1) {
      throw new MarkerError(`'// ${kind} bridge:${id}' is outside the '// BEGIN bridges' … '// END bridges' region`, lineNo);
    }
    if (kind === 'BEGIN') {
      if (open) {
        throw new MarkerError(`'// BEGIN bridge:${open.id}' has no matching END before the next BEGIN`, open.begin + 1);
      }
      const first = seen.get(id);
      if (first !== undefined) {
        throw new MarkerError(`second block 'bridge:${id}' (the first begins on line ${first + 1})`, lineNo);
      }
      seen.set(id, i);
      open = { id, begin: i, end: -1 };
      return;
    }
    if (!open) throw new MarkerError(`'// END bridge:${id}' with no BEGIN before it`, lineNo);
    if (open.id !== id) {
      throw new MarkerError(`'// END bridge:${id}' closes 'bridge:${open.id}' (begun on line ${open.begin + 1})`, lineNo);
    }
    open.end = i;
    blocks.push(open);
    open = undefined;
  });

  if (regionBegin === -1) {
    throw new MarkerError(
      `no '// BEGIN bridges' line in its ${lines.length} line${lines.length === 1 ? '' : 's'}: this file is not one bridgectl manages`,
      undefined,
      'move the file aside (bridgectl will write a fresh one) or add the region by hand',
    );
  }
  if (regionEnd === -1) {
    if (open) throw new MarkerError(`'// BEGIN bridge:${open.id}' has no matching END`, open.begin + 1);
    throw new MarkerError(`'// BEGIN bridges' has no matching '// END bridges'`, regionBegin + 1);
  }
  return { lines, eols, regionBegin, regionEnd, blocks };
}

const outcome = (parse: (text: string) => ManagedText, text: string): unknown => {
  try {
    return parse(text);
  } catch (err) {
    if (!(err instanceof MarkerError)) throw err;
    return { error: err.message, line: err.line, hint: err.hint };
  }
};

it('parseManaged parses, and refuses, exactly as the per-line closure did', () => {
  // Line soup: valid and malformed markers, ids good and bad, BOMs, CRs, NULs, comments, code.
  const lineArb = fc.constantFrom(
    '// BEGIN bridges', '    // END bridges', '// BEGIN bridges ', '\t// END bridges\t',
    '// BEGIN bridge:a', '// END bridge:a', '  // BEGIN bridge:b', '  // END bridge:b', '// END bridge:c',
    '// BEGIN bridge:A', '// END bridge:A', '// BEGIN bridge:-x', '//BEGIN bridge:a', '// begin bridge:a', '// BEGIN  bridge:a',
    '// BEGIN bridge:a x', '\uFEFF// BEGIN bridges', '\u00a0// BEGIN bridge:a', '// BEGINNING', '// END bridgework',
    "    'command' => 'https://example.com/x',", '$x = 1; // BEGIN bridge:a', '<?php', '', '\r', 'a\u0000b', '/* // */',
  );
  const textArb = fc.tuple(fc.array(fc.tuple(lineArb, fc.constantFrom('\n', '\r\n')), { maxLength: 12 }), fc.boolean()).map(([lines, last]) =>
    lines.map(([l, e], i) => l + (i === lines.length - 1 && !last ? '' : e)).join(''),
  );
  fc.assert(
    fc.property(textArb, (text) => {
      expect(outcome(parseManaged, text)).toEqual(outcome(referenceParse, text));
    }),
    { numRuns: 5000 },
  );
});

it('readBlock reads a body from the offsets as listBlocks does from the split lines', () => {
  const crBody = fc.array(fc.constantFrom('    $a = 1;', '', '\r', 'x\r', '  // note', "    'k' => 'v',"), { maxLength: 4 });
  fc.assert(
    fc.property(fileArb, fc.boolean(), crBody, ({ text }, bom, body) => {
      // Also: a BOM, and a body whose own lines end in CR before a CRLF or LF terminator.
      const withBody = text.replace(/(\/\/ BEGIN bridges[^\n]*\n)/, `$1// BEGIN bridge:zz\n${body.map((l) => `${l}\n`).join('')}// END bridge:zz\n`);
      for (const t of [text, withBody].map((x) => (bom ? `\uFEFF${x}` : x))) {
        for (const { id, body: expected } of listBlocks(t)) expect(readBlock(t, id)).toEqual(expected);
        expect(readBlock(t, 'absent-id')).toBeUndefined();
      }
    }),
    { numRuns: 2000 },
  );
});
