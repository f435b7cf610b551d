/**
 * An operator's own lines in a managed service definition (#17 item 7):
 * `Nice=`, `LimitNOFILE=`, `MemoryMax=`, a second `EnvironmentFile=`, an
 * `[X-…]` section, or a plist key bridgectl does not write. upgrade keeps
 * them in the file, where the operator put them: in their section, after
 * bridgectl's own lines, in file order, with the comment lines just above
 * each. Pure.
 *
 * What is the operator's is worked out against what bridgectl renders now
 * (the "base"): a directive of the installed file that the base has too,
 * with the same value, is bridgectl's; one whose key the base has, but with
 * another value, is bridgectl's old line, replaced (said in a note when the
 * value is not one the flags decide: an operator edit being undone); every
 * other directive, including a second line of a key bridgectl writes once,
 * is the operator's, and kept. Rendering base + kept lines and reading it
 * back gives the same split, so the next run is a no-op.
 *
 * Environment=, UMask= and ExecStartPre= are kept by KeptSettings already
 * (units.ts), so they are left to it.
 */
import { unitLines } from './unit-syntax.js';

/** Lines kept from the installed file, per section, as written (comments and continuation lines included). */
export interface OperatorLines {
  /** systemd: [section name, raw lines]; launchd: ['dict', raw entries]. */
  sections: [string, string[]][];
  /** [section, directive or plist key] of each line kept, for the note. */
  names: [string, string][];
  /** Operator values of bridgectl's settings that this render replaces. */
  replaced: string[];
  /** Comment lines that belonged to no kept directive, and are dropped. */
  droppedComments: number;
  /** The installed file could not be split into entries (a plist not in the shape bridgectl reads). */
  unreadable?: boolean;
}

const HANDLED_BY_KEPT_SETTINGS = new Set(['Service/Environment', 'Service/UMask', 'Service/ExecStartPre']);
/** Settings whose value no flag decides: an installed value that differs was an operator's edit. */
const TEMPLATE_CONSTANTS = new Set(['Unit/Description', 'Unit/After', 'Unit/Requires', 'Service/Type', 'Service/Restart', 'Service/RestartSec', 'Install/WantedBy']);

interface Directive {
  section: string;
  key: string;
  /** The value as systemd reads it: continuation lines joined, outer whitespace trimmed. */
  value: string;
  /** The lines as written: comments just above, the directive, its continuation lines. */
  raw: string[];
  comments: number;
}

/** A unit's directives, in file order, as systemd reads them (unit-syntax.ts), each with the comment lines just above it. */
export function parseDirectives(text: string): { directives: Directive[]; looseComments: number } {
  const directives: Directive[] = [];
  let comments: string[] = [];
  let looseComments = 0;
  for (const line of unitLines(text)) {
    if (line.kind === 'comment') {
      comments.push(...line.raw);
      continue;
    }
    if (line.kind === 'assignment') {
      directives.push({ section: line.section, key: line.key, value: line.value, raw: [...comments, ...line.raw], comments: comments.length });
    } else {
      // A section header, or a line systemd does not read (dropped, with its comments).
      looseComments += comments.length;
    }
    comments = [];
  }
  return { directives, looseComments: looseComments + comments.length };
}

/** The installed unit's lines that are the operator's, measured against the unit bridgectl renders now (base). */
export function operatorUnitLines(installed: string, base: string): OperatorLines {
  const ours = parseDirectives(base).directives.map((d) => ({ ...d, taken: false }));
  const theirs = parseDirectives(installed);
  const out: OperatorLines = { sections: [], names: [], replaced: [], droppedComments: theirs.looseComments };
  const id = (d: Directive): string => `${d.section}/${d.key}`;
  const mine = theirs.directives.filter((d) => {
    if (!HANDLED_BY_KEPT_SETTINGS.has(id(d))) return true;
    out.droppedComments += d.comments; // the setting itself is kept by KeptSettings, not its comments
    return false;
  });
  const left = mine.filter((d) => {
    const same = ours.find((b) => !b.taken && id(b) === id(d) && b.value === d.value);
    if (same) same.taken = true;
    if (same) out.droppedComments += d.comments;
    return !same;
  });
  for (const d of left) {
    const replacing = ours.find((b) => !b.taken && id(b) === id(d));
    if (replacing) {
      replacing.taken = true;
      out.droppedComments += d.comments;
      if (TEMPLATE_CONSTANTS.has(id(d))) out.replaced.push(`${d.key}=${d.value} (now ${d.key}=${replacing.value})`);
      continue;
    }
    let section = out.sections.find(([name]) => name === d.section);
    if (!section) out.sections.push((section = [d.section, []]));
    section[1].push(...d.raw);
    out.names.push([d.section, `${d.key}=`]);
  }
  return out;
}

/** The rendered unit with the kept lines at the end of their sections; sections it lacks are added at the end. */
export function insertUnitLines(rendered: string, kept: OperatorLines): string {
  if (kept.sections.length === 0) return rendered;
  const lines = rendered.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  const headers = lines.flatMap((l, i) => (/^\[.+\]$/.test(l.trim()) ? [[l.trim().slice(1, -1), i] as const] : []));
  const extra: string[] = [];
  // Last section first, so earlier indexes stay valid.
  const inserts: [number, string[]][] = [];
  for (const [name, raw] of kept.sections) {
    const h = headers.findIndex(([n]) => n === name);
    if (h < 0) {
      extra.push('', `[${name}]`, ...raw);
      continue;
    }
    let end = h + 1 < headers.length ? (headers[h + 1] as readonly [string, number])[1] : lines.length;
    while (end > 0 && (lines[end - 1] as string).trim() === '') end--;
    inserts.push([end, raw]);
  }
  for (const [at, raw] of inserts.sort((a, b) => b[0] - a[0])) lines.splice(at, 0, ...raw);
  lines.push(...extra);
  if (trailing !== undefined) lines.push(trailing);
  return lines.join('\n');
}

// ---------------------------------------------------------------- launchd

interface PlistEntry {
  key: string;
  /** `<key>…</key>` through the end of its value, as written. */
  raw: string;
  /** The value element as written, whitespace-normalized, for comparing. */
  value: string;
}

/**
 * The entries of a plist's top-level <dict>, in file order, each as the
 * text it was written as; undefined when it is not in that shape. A scan of
 * the source, not the plist package (lib/plist.ts): a key upgrade keeps must
 * come back byte for byte (#17 item 7), and a parser yields values, not the
 * text they were written as.
 */
export function plistEntries(text: string): PlistEntry[] | undefined {
  const open = /<plist\b[^>]*>\s*<dict>/.exec(text);
  if (!open) return undefined;
  const entries: PlistEntry[] = [];
  let i = open.index + open[0].length;
  const tag = /<!--[\s\S]*?-->|<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g;
  for (;;) {
    // XML comments between entries are skipped (and not kept: they belong to no key).
    const key = /(?:\s|<!--[\s\S]*?-->)*(<key>([^<]*)<\/key>)/y;
    key.lastIndex = i;
    const k = key.exec(text);
    if (!k) break;
    const start = key.lastIndex - (k[1] as string).length;
    tag.lastIndex = key.lastIndex;
    let depth = 0;
    let end = -1;
    for (let m = tag.exec(text); m; m = tag.exec(text)) {
      if (m[0].startsWith('<!--')) continue;
      if (m[3] === '/') {
        if (depth === 0) end = tag.lastIndex;
      } else if (m[1] === '/') depth--;
      else depth++;
      if (depth === 0 && (m[1] === '/' || m[3] === '/')) {
        end = tag.lastIndex;
        break;
      }
      if (depth < 0) return undefined;
    }
    if (end < 0) return undefined;
    const raw = text.slice(start, end);
    entries.push({ key: k[2] as string, raw, value: raw.slice((k[1] as string).length).replace(/\s+/g, ' ').trim() });
    i = end;
  }
  return entries;
}

/** The installed plist's top-level keys bridgectl does not write: kept, as written. */
export function operatorPlistEntries(installed: string, base: string): OperatorLines {
  const out: OperatorLines = { sections: [], names: [], replaced: [], droppedComments: 0 };
  const ours = plistEntries(base);
  const theirs = plistEntries(installed);
  if (!ours || !theirs) return { ...out, unreadable: true };
  const known = new Set(ours.map((e) => e.key));
  const raw: string[] = [];
  for (const e of theirs) {
    const mine = ours.find((o) => o.key === e.key);
    if (mine) {
      if (e.key === 'KeepAlive' && mine.value !== e.value) out.replaced.push(`KeepAlive ${e.value} (now ${mine.value})`);
      continue;
    }
    if (known.has(e.key)) continue;
    raw.push(`    ${e.raw}`);
    out.names.push(['dict', e.key]);
  }
  if (raw.length) out.sections.push(['dict', raw]);
  return out;
}

/** The rendered plist with the kept entries at the end of its top-level dict. */
export function insertPlistEntries(rendered: string, kept: OperatorLines): string {
  const raw = kept.sections.flatMap(([, lines]) => lines);
  if (raw.length === 0) return rendered;
  const close = rendered.lastIndexOf('</dict>');
  return `${rendered.slice(0, close)}${raw.join('\n')}\n${rendered.slice(close)}`;
}

// ---------------------------------------------------------------- in a plan

/**
 * Render a service definition keeping the operator's lines of the installed
 * one (`render(lines)` renders with them, `render()` without), and the notes
 * that say what was kept, where, and what was replaced or dropped. Notes
 * only when the file changes: a no-op run has nothing to say.
 */
export function keepOperatorLines(
  init: 'systemd' | 'launchd',
  file: string,
  installed: string | undefined,
  render: (lines?: OperatorLines) => string,
): { after: string; lines?: OperatorLines; notes: string[] } {
  const base = render();
  if (installed === undefined) return { after: base, notes: [] };
  const lines = init === 'systemd' ? operatorUnitLines(installed, base) : operatorPlistEntries(installed, base);
  const after = lines.sections.length ? render(lines) : base;
  const kept = lines.sections.length ? { lines } : {};
  if (after === installed) return { after, ...kept, notes: [] };
  const notes: string[] = [];
  if (lines.names.length) {
    const where = init === 'systemd' ? 'they stay in the unit, after its own lines' : 'they stay in the plist';
    const by = lines.sections.map(([section]) => {
      const keys = lines.names.filter(([s]) => s === section).map(([, k]) => k);
      return init === 'systemd' ? `[${section}] ${keys.join(', ')}` : keys.join(', ');
    });
    notes.push(`${file}: kept ${init === 'systemd' ? 'the lines' : 'the keys'} ${by.join('; ')} that bridgectl does not write (${where})`);
  }
  if (lines.unreadable) notes.push(`${file}: could not tell its keys apart (not the plist shape bridgectl reads), so any key you added there is not kept; see the diff (--dry-run)`);
  for (const r of lines.replaced) notes.push(`${file}: replaced ${r}, which bridgectl manages; to override it, ${init === 'systemd' ? `use a drop-in (systemctl edit ${file.slice(file.lastIndexOf('/') + 1)})` : 'edit the plist after each upgrade'}`);
  if (lines.droppedComments) notes.push(`${file}: dropped ${lines.droppedComments} comment line${lines.droppedComments === 1 ? '' : 's'} (only comments just above a kept line are kept)`);
  return { after, ...kept, notes };
}
