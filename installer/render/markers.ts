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
  const lines = text.split('\n');
  const last = lines.pop() as string; // what follows the last '\n': '' when the text ends with one
  const eols: string[] = lines.map((line, i) => {
    if (!line.endsWith('\r')) return '\n';
    lines[i] = line.slice(0, -1);
    return '\r\n';
  });
  if (last !== '') {
    lines.push(last);
    eols.push('');
  }
  return { lines, eols };
}

/** Parse and validate the region and its blocks. Throws MarkerError naming the line. */
export function parseManaged(text: string): ManagedText {
  const { lines, eols } = splitLines(text);
  let regionBegin = -1;
  let regionEnd = -1;
  let open: Block | undefined;
  const blocks: Block[] = [];
  const seen = new Map<string, number>();

  // A NUL byte means this is not a text file we edit.
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    const lineNo = text.slice(0, nul).split('\n').length;
    throw new MarkerError('contains a NUL byte: this is not a text file bridgectl will edit', lineNo, 'restore the file from a backup, or move it aside');
  }

  lines.forEach((raw, i) => {
    if (!raw.includes('//')) return; // every marker pattern needs it
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

/** Every block in file order, with its body lines. */
export function listBlocks(text: string): { id: string; body: string[] }[] {
  const parsed = parseManaged(text);
  return parsed.blocks.map((b) => ({ id: b.id, body: parsed.lines.slice(b.begin + 1, b.end) }));
}

/** Body lines of one block of a parsed file, or undefined when the block is absent. */
export function readBlock(parsed: ManagedText, id: string): string[] | undefined {
  const { lines, blocks } = parsed;
  const block = blocks.find((b) => b.id === id);
  return block && lines.slice(block.begin + 1, block.end);
}

/** How many blocks the text holds (validating it, as every reader does). */
export function countBlocks(text: string): number {
  return parseManaged(text).blocks.length;
}

/**
 * Apply many block changes in one pass (linear in file size, whatever the
 * number of blocks). Existing blocks are replaced in place; new ones go just
 * before '// END bridges', in the order given; null bodies remove the block.
 * `parsed`: the text's parse, when the caller has it (a plan parses the channels file once).
 */
export function spliceBlocks(text: string, changes: readonly BlockChange[], parsed: ManagedText = parseManaged(text)): string {
  const { lines, eols, regionEnd, blocks } = parsed;
  const wanted = new Map<string, string[] | null>();
  for (const change of changes) {
    if (!BLOCK_ID.test(change.id)) throw new RenderError(`invalid block id ${JSON.stringify(change.id)}`);
    if (change.body) assertNoMarkers(change.id, change.body);
    wanted.set(change.id, change.body);
  }

  const indent = REGION_MARKER.exec(lines[regionEnd] ?? '')?.[1] ?? '';
  // New lines take the file's own line ending, so CRLF files stay CRLF:
  // the region end's, else the first line's (the first that has one).
  const eol = eols[regionEnd] || eols.find((e) => e !== '') || '\n';
  const blockLines = (id: string, body: string[]): string[] => [
    `${indent}// BEGIN bridge:${id}`,
    ...body,
    `${indent}// END bridge:${id}`,
  ];

  // Every deploy's upgrade: each wanted block is already there exactly as
  // it would be written, so the text is the answer. Rebuilding a
  // 1,000-block file line by line instead costs tens of ms (docs/performance.md).
  const byId = new Map(blocks.map((b) => [b.id, b]));
  const written = (id: string, body: string[] | null): boolean => {
    const block = byId.get(id);
    if (!block || !body) return !block && !body;
    const want = blockLines(id, body);
    return want.length === block.end - block.begin + 1 && want.every((line, k) => lines[block.begin + k] === line && eols[block.begin + k] === eol);
  };
  if ([...wanted].every(([id, body]) => written(id, body))) return text;

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
      for (const [id, body] of wanted) {
        if (body) for (const line of blockLines(id, body)) out.push(line, eol);
      }
      wanted.clear();
    }
    out.push(lines[i] ?? '', eols[i] ?? '');
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
