/**
 * The marker engine: pure text → text, no I/O.
 *
 * A managed file holds one region
 *
 *     // BEGIN bridges
 *     // BEGIN bridge:<id>
 *     …body…
 *     // END bridge:<id>
 *     // END bridges
 *
 * and bridgectl only ever rewrites whole blocks inside it. Everything else is
 * kept byte for byte, line endings included. Anything that does not parse as
 * exactly this structure is refused with the line it was found on: guessing
 * at a damaged file is how peers ended up deleting operators' text.
 */
import { MarkerError, RenderError } from '../model/errors.js';
import { BLOCK_ID } from '../lib/paths.js';

/** Block ids, and channel names, share this shape (also PHP-array-key safe). */
export { BLOCK_ID };

const BLOCK_MARKER = /^([ \t]*)\/\/ (BEGIN|END) bridge:(\S+)[ \t]*$/;
const REGION_MARKER = /^([ \t]*)\/\/ (BEGIN|END) bridges[ \t]*$/;
/** Anything an operator might have meant as a marker; must parse strictly or we stop. */
const MARKER_LIKE = /^\s*\/\/\s*(BEGIN|END)\s*bridge/i;

export interface Block {
  id: string;
  /** 0-based index of the BEGIN line. */
  begin: number;
  /** 0-based index of the END line. */
  end: number;
}

export interface ManagedText {
  /** Line contents, without terminators. */
  lines: string[];
  /** Each line's terminator: '\n', '\r\n', or '' for a last line without one. */
  eols: string[];
  regionBegin: number;
  regionEnd: number;
  blocks: Block[];
}

/** A wanted state for one block: its body lines, or null to remove it. */
export interface BlockChange {
  id: string;
  body: string[] | null;
}

export function splitLines(text: string): { lines: string[]; eols: string[] } {
  if (text === '') return { lines: [], eols: [] };
  // One native split, then only CRLF lines need a second look: a
  // 1,000-block file is ~9,000 lines, split on every deploy's cold start.
  const lines = text.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  const last = lines.length - 1;
  if (!text.includes('\r')) {
    // No CR anywhere (the usual file): every terminator is '\n', filled
    // natively instead of one interpreted loop step per line.
    const eols: string[] = new Array<string>(lines.length).fill('\n');
    if (!endsWithNewline) eols[last] = '';
    return { lines, eols };
  }
  const eols: string[] = [];
  for (let i = 0; i <= last; i++) {
    const line = lines[i] as string;
    if (i === last && !endsWithNewline) {
      eols.push('');
    } else if (line.charCodeAt(line.length - 1) === 13) {
      lines[i] = line.slice(0, -1);
      eols.push('\r\n');
    } else {
      eols.push('\n');
    }
  }
  return { lines, eols };
}

/**
 * One-entry memo: a command parses the same text several times (read, each
 * bridge's adoption, the splice), and on a 1,000-block file each parse is
 * milliseconds of a cold start. Results are shared: read them, never mutate.
 */
let lastParsed: { text: string; parsed: ManagedText } | undefined;

/** Parse and validate the region and its blocks. Throws MarkerError naming the line. */
export function parseManaged(text: string): ManagedText {
  if (lastParsed?.text === text) return lastParsed.parsed;
  const parsed = parse(text);
  lastParsed = { text, parsed };
  return parsed;
}

/** Where a block's lines are in the text: what the no-op path reads instead of the split lines. */
interface BlockSpan {
  /** Offset of the BEGIN line, of the END line, and just past the END line's terminator. */
  beginAt: number;
  endAt: number;
  after: number;
}

/** What parse knows beyond ManagedText, by parsed result: offsets into the text (readBlock, spliceBlocks' no-op check). */
const spans = new WeakMap<ManagedText, { text: string; blocks: BlockSpan[]; regionEndLine: string; regionEndEol: string }>();

/** A line's terminator, for the line ending at `nl` (its '\n', or -1 for a last line without one). */
function eolAt(text: string, nl: number): string {
  if (nl === -1) return '';
  return nl > 0 && text.charCodeAt(nl - 1) === 13 ? '\r\n' : '\n';
}

/**
 * The scan goes from one '//' to the next (native searches) instead of
 * through every line: a 1,000-block file has ~9,000 lines and ~2,000 with
 * a marker. Lines are numbered by hopping from one '\n' to the next in
 * between. The split lines and terminators (ManagedText.lines/eols) are
 * made on first use only: a no-op upgrade never needs them.
 */
function parse(text: string): ManagedText {
  let regionBegin = -1;
  let regionEnd = -1;
  let regionEndLine = '';
  let regionEndEol = '';
  let open: (Block & { beginAt: number }) | undefined;
  const blocks: Block[] = [];
  const blockSpans: BlockSpan[] = [];
  const seen = new Map<string, number>();
  let split: { lines: string[]; eols: string[] } | undefined;
  const lazySplit = (): { lines: string[]; eols: string[] } => (split ??= splitLines(text));

  // A NUL byte means this is not a text file we edit; found once, before the scan skips most lines.
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    const lineNo = text.slice(0, nul).split('\n').length;
    throw new MarkerError('contains a NUL byte: this is not a text file bridgectl will edit', lineNo, 'restore the file from a backup, or move it aside');
  }

  // Line i starts at lineStart; every marker pattern needs a '//' on its line.
  let i = 0;
  let lineStart = 0;
  for (let at = text.indexOf('//'); at !== -1; ) {
    let nl = text.indexOf('\n', lineStart);
    while (nl !== -1 && nl < at) {
      i++;
      lineStart = nl + 1;
      nl = text.indexOf('\n', lineStart);
    }
    const eol = eolAt(text, nl);
    const raw = text.slice(lineStart, nl === -1 ? text.length : nl - (eol.length - 1));
    const lineAt = lineStart;
    const lineNo = i + 1;
    // Next: the first '//' after this line (its own further ones are part of it).
    if (nl === -1) at = -1;
    else {
      at = text.indexOf('//', nl + 1);
      i++;
      lineStart = nl + 1;
    }

    // A UTF-8 BOM belongs to the file, not to a marker on its first line (it is kept as is).
    const line = lineAt === 0 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    // A line matches at most one of the two marker patterns ('bridge:<id>' vs 'bridges').
    const marker = BLOCK_MARKER.exec(line);
    if (marker) {
      const kind = marker[2];
      const id = marker[3] ?? '';
      // The END of the open block repeats an id already checked at its BEGIN.
      if (!(kind === 'END' && id === open?.id) && !BLOCK_ID.test(id)) throw new MarkerError(`invalid block id ${JSON.stringify(id)}`, lineNo);
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
        seen.set(id, lineNo - 1);
        open = { id, begin: lineNo - 1, end: -1, beginAt: lineAt };
        continue;
      }
      if (!open) throw new MarkerError(`'// END bridge:${id}' with no BEGIN before it`, lineNo);
      if (open.id !== id) {
        throw new MarkerError(`'// END bridge:${id}' closes 'bridge:${open.id}' (begun on line ${open.begin + 1})`, lineNo);
      }
      blocks.push({ id, begin: open.begin, end: lineNo - 1 });
      blockSpans.push({ beginAt: open.beginAt, endAt: lineAt, after: nl === -1 ? text.length : nl + 1 });
      open = undefined;
      continue;
    }

    const region = REGION_MARKER.exec(line);
    if (region) {
      if (region[2] === 'BEGIN') {
        if (regionBegin !== -1) {
          throw new MarkerError(`second '// BEGIN bridges' (the first is on line ${regionBegin + 1})`, lineNo);
        }
        regionBegin = lineNo - 1;
        continue;
      }
      if (regionBegin === -1) throw new MarkerError(`'// END bridges' before any '// BEGIN bridges'`, lineNo);
      if (regionEnd !== -1) {
        throw new MarkerError(`second '// END bridges' (the first is on line ${regionEnd + 1})`, lineNo);
      }
      if (open) {
        throw new MarkerError(`'// BEGIN bridge:${open.id}' has no matching END before '// END bridges'`, open.begin + 1);
      }
      regionEnd = lineNo - 1;
      regionEndLine = raw;
      regionEndEol = eol;
      continue;
    }

    if (MARKER_LIKE.test(line)) {
      throw new MarkerError(
        `malformed marker ${JSON.stringify(line.trim())}`,
        lineNo,
        "markers are whole lines: '// BEGIN bridge:<id>' / '// END bridge:<id>'",
      );
    }
  }

  if (regionBegin === -1) {
    const count = lazySplit().lines.length;
    throw new MarkerError(
      `no '// BEGIN bridges' line in its ${count} line${count === 1 ? '' : 's'}: this file is not one bridgectl manages`,
      undefined,
      'move the file aside (bridgectl will write a fresh one) or add the region by hand',
    );
  }
  if (regionEnd === -1) {
    if (open) throw new MarkerError(`'// BEGIN bridge:${open.id}' has no matching END`, open.begin + 1);
    throw new MarkerError(`'// BEGIN bridges' has no matching '// END bridges'`, regionBegin + 1);
  }
  const parsed: ManagedText = {
    get lines() {
      return lazySplit().lines;
    },
    get eols() {
      return lazySplit().eols;
    },
    regionBegin,
    regionEnd,
    blocks,
  };
  spans.set(parsed, { text, blocks: blockSpans, regionEndLine, regionEndEol });
  return parsed;
}

/** Every block in file order, with its body lines. */
export function listBlocks(text: string): { id: string; body: string[] }[] {
  const parsed = parseManaged(text);
  return parsed.blocks.map((b) => ({ id: b.id, body: parsed.lines.slice(b.begin + 1, b.end) }));
}

/**
 * Body lines of one block, or undefined when the block is absent. Only that
 * block's lines are copied (listBlocks copies every block's: on a
 * 1,000-block file, once per bridge, that was most of an upgrade).
 */
export function readBlock(text: string, id: string): string[] | undefined {
  const parsed = parseManaged(text);
  const at = parsed.blocks.findIndex((b) => b.id === id);
  if (at < 0) return undefined;
  const span = spans.get(parsed)?.blocks[at] as BlockSpan;
  // The body: the lines between BEGIN's terminator and END, each '\n'-terminated; a CRLF line loses its CR.
  const bodyStart = text.indexOf('\n', span.beginAt) + 1;
  if (bodyStart >= span.endAt) return [];
  return text.slice(bodyStart, span.endAt - 1).split('\n').map((l) => (l.charCodeAt(l.length - 1) === 13 ? l.slice(0, -1) : l));
}

/** How many blocks the text holds (validating it, as every reader does). */
export function countBlocks(text: string): number {
  return parseManaged(text).blocks.length;
}

/**
 * Apply many block changes in one pass (linear in file size, whatever the
 * number of blocks). Existing blocks are replaced in place; new ones go just
 * before '// END bridges', in the order given; null bodies remove the block.
 */
export function spliceBlocks(text: string, changes: readonly BlockChange[]): string {
  const parsed = parseManaged(text);
  const { regionEnd } = parsed;
  const where = spans.get(parsed) as NonNullable<ReturnType<typeof spans.get>>;
  const wanted = new Map<string, string[] | null>();
  for (const change of changes) {
    if (!BLOCK_ID.test(change.id)) throw new RenderError(`invalid block id ${JSON.stringify(change.id)}`);
    if (change.body) assertNoMarkers(change.id, change.body);
    wanted.set(change.id, change.body);
  }

  const indent = REGION_MARKER.exec(where.regionEndLine)?.[1] ?? '';
  // New lines take the file's own line ending, so CRLF files stay CRLF:
  // the region end's, else the first line's (the first that has one).
  const eol = where.regionEndEol || eolAt(text, text.indexOf('\n')) || '\n';
  const blockLines = (id: string, body: string[]): string[] => [
    `${indent}// BEGIN bridge:${id}`,
    ...body,
    `${indent}// END bridge:${id}`,
  ];

  // The no-op (every deploy's upgrade): each wanted block is already there,
  // byte for byte as the loop below would write it, so the result is the
  // text itself, without rebuilding a file of thousands of lines.
  // Compared as text: the block's lines with their terminators are exactly
  // the wanted lines each followed by `eol` (no wanted line holds a CR or LF).
  const byId = new Map(parsed.blocks.map((b, k) => [b.id, where.blocks[k] as BlockSpan]));
  const unchanged = [...wanted].every(([id, body]) => {
    const span = byId.get(id);
    if (!span || !body) return !span && !body;
    const want = blockLines(id, body);
    return text.slice(span.beginAt, span.after) === want.join(eol) + eol;
  });
  if (unchanged) return text;

  const { lines, eols } = parsed;

  const out: string[] = [];
  const push = (line: string, lineEol: string): void => {
    out.push(line, lineEol);
  };
  const byBegin = new Map(parsed.blocks.map((b) => [b.begin, b]));
  for (let i = 0; i < lines.length; i++) {
    const block = byBegin.get(i);
    if (block && wanted.has(block.id)) {
      const body = wanted.get(block.id);
      wanted.delete(block.id);
      if (body) for (const line of blockLines(block.id, body)) push(line, eol);
      i = block.end;
      continue;
    }
    if (i === regionEnd) {
      for (const [id, body] of wanted) {
        if (body) for (const line of blockLines(id, body)) push(line, eol);
      }
      wanted.clear();
    }
    push(lines[i] ?? '', eols[i] ?? '');
  }
  return out.join('');
}

export function upsertBlock(text: string, id: string, body: string[]): string {
  return spliceBlocks(text, [{ id, body }]);
}

export function removeBlock(text: string, id: string): string {
  return spliceBlocks(text, [{ id, body: null }]);
}

function assertNoMarkers(id: string, body: string[]): void {
  body.forEach((line, i) => {
    if (/[\r\n]/.test(line)) {
      throw new RenderError(`block '${id}': body line ${i + 1} contains a line break`);
    }
    if (MARKER_LIKE.test(line) || REGION_MARKER.test(line)) {
      throw new RenderError(`block '${id}': body line ${i + 1} would read as a marker: ${JSON.stringify(line)}`);
    }
  });
}
