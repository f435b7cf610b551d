/**
 * What commands print: a short human summary (with diffs on --dry-run and
 * check), a file listing (render), a check list (doctor), or one JSON
 * document whose shape is documented in docs/json.md and pinned by
 * test/integration/json.test.ts. Pure: returns strings.
 */
import { formatMode } from '../lib/access.js';
import { formatDiff, SECRET_NOTICE } from './diff.js';
import type { Check } from '../model/doctor.js';
import type { Identity } from '../model/identity.js';
import type { FileChange, FileStatus, Plan } from '../model/plan.js';
import { makeStyle, paintDiff, type Style } from './style.js';
import type { WebUser } from '../model/web-user.js';
import { VERSION } from '../lib/version.js';
import { oneLine } from '../model/errors.js';
import type { JsonBridgeStatus } from './status.js';
import { NON_TTY_WIDTH, wrapCommand, wrapWords } from './wrap.js';

/** Bump when the JSON shape changes incompatibly (a key renamed, removed or retyped); adding keys does not. */
export const JSON_SCHEMA_VERSION = 1;

export interface ReportOptions {
  command: string;
  dryRun: boolean;
  style?: Style;
}

export function formatHuman(plan: Plan, options: ReportOptions): string {
  const style = options.style ?? makeStyle(false);
  const lines: string[] = [];
  for (const note of plan.notes) lines.push(`note: ${note}`);
  for (const dir of plan.directories) lines.push(`${'mkdir'.padEnd(9)} ${dir.path} (${formatMode(dir.mode)}, uid ${dir.uid})`);
  for (const change of plan.changes) {
    lines.push(`${change.status.padEnd(9)} ${change.path}`);
  }
  let text = lines.join('\n') + (lines.length ? '\n' : '');
  if (options.dryRun) text += paintDiff(plan.changes.map(formatDiff).filter(Boolean).join(''), style);
  // The summary closes the listing (the diffs too); a dry run still ends on saying it wrote nothing.
  text += summaryLine(plan, options.dryRun);
  if (options.dryRun) text += 'dry run: nothing was written\n';
  return redact(text, plan.secrets);
}

/** Files per status, every status present: --json's `counts` and the summary line. */
export type Counts = Record<FileStatus, number>;

export function countFiles(plan: Plan | undefined): Counts {
  const counts: Counts = { create: 0, update: 0, unchanged: 0, remove: 0 };
  for (const c of plan?.changes ?? []) counts[c.status] += 1;
  return counts;
}

/** Whether the plan changes anything (a file not unchanged, or a directory to create): --json's `changed`. */
export function planChanges(plan: Plan | undefined): boolean {
  return plan !== undefined && (plan.directories.length > 0 || plan.changes.some((c) => c.status !== 'unchanged'));
}

/**
 * The last line of install, upgrade, uninstall and channel set/remove, in
 * files: "3 changed (2 created, 1 updated), 4 unchanged", "would change" on a
 * dry run, and the directories it creates after them.
 */
export function summaryLine(plan: Plan, dryRun: boolean): string {
  const n = countFiles(plan);
  const changed = n.create + n.update + n.remove;
  const parts = [[n.create, 'created'], [n.update, 'updated'], [n.remove, 'removed']].filter(([k]) => k !== 0).map(([k, what]) => `${k} ${what}`);
  const dirs = plan.directories.length;
  const made = dirs === 0 ? '' : `, ${dirs} director${dirs === 1 ? 'y' : 'ies'} ${dryRun ? 'to create' : 'created'}`;
  return `${changed} ${dryRun ? 'would change' : 'changed'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}, ${n.unchanged} unchanged${made}\n`;
}

/**
 * render's listing: every file after a `==> PATH <==` header line (the
 * format of head(1) with several files), files separated by one empty line.
 * A file that does not end in a newline gets one, so headers always start a
 * line; --out gives the exact bytes (--json too, but for a credential file).
 */
export function formatListing(plan: Plan): string {
  return redact(plan.changes
    .filter((c): c is FileChange & { after: string } => c.after !== null)
    // A credential file is listed, never shown (as in --json and diffs): redaction alone could miss a reshaped value.
    .map((c) => `==> ${c.path} <==\n${c.secret ? `${SECRET_NOTICE}\n` : c.after.endsWith('\n') || c.after === '' ? c.after : `${c.after}\n`}`)
    .join('\n'), plan.secrets);
}

/** check: the diffs of drifted files, then one summary line. */
export function formatCheck(drift: readonly FileChange[], total: number, style: Style, secrets?: readonly string[]): string {
  if (drift.length === 0) return `in sync: ${total} managed file(s) match what upgrade would write\n`;
  let text = paintDiff(drift.map(formatDiff).join(''), style);
  const missing = drift.filter((c) => c.status === 'create').length;
  text += style.yellow(
    `drift: ${drift.length} of ${total} managed file(s) differ from what upgrade would write${missing ? ` (${missing} missing)` : ''}; run bridgectl upgrade to rewrite them`,
  );
  return redact(`${text}\n`, secrets);
}

const LABEL = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

/**
 * doctor: one line per check (quiet: failures only), fixes indented below,
 * and a tally; every line wrapped to `width` (wrap.ts), a fix as a command
 * that still runs when copied. With no channel installed the tally says so:
 * "nothing stops a dispatch" would be true of nothing.
 */
export function formatDoctor(checks: readonly Check[], webUser: WebUser, style: Style, quiet: boolean, width = NON_TTY_WIDTH): string {
  const paint = { ok: style.green, warn: style.yellow, fail: style.red } as const;
  const shown = quiet ? checks.filter((c) => c.status === 'fail') : checks;
  const idWidth = Math.max(0, ...shown.map((c) => c.id.length));
  // Ids taking more than half the room would squeeze every message to the right edge: messages then start under the id.
  const column = 6 + idWidth + 2 <= width / 2 ? 6 + idWidth + 2 : 6;
  const lines: string[] = [];
  for (const c of shown) {
    const head = `${paint[c.status](LABEL[c.status].padEnd(4))}  ${c.id}`;
    const plain = 6 + c.id.length;
    if (plain + 2 <= column) lines.push(...wrapWords(head + ' '.repeat(column - plain), column, c.message, width, column));
    else lines.push(head, ...wrapWords(' '.repeat(column), column, c.message, width, column));
    if (c.fix && c.status !== 'ok') lines.push(...wrapCommand(`${' '.repeat(column)}fix: `, column + 5, c.fix, width, column + 5));
  }
  if (!quiet) {
    const count = (s: Check['status']): number => checks.filter((c) => c.status === s).length;
    const fails = count('fail');
    const tally = `${fails ? `${fails} failed, ` : ''}${count('warn')} warning(s), ${count('ok')} ok`;
    const summary = noChannels(checks)
      ? `${tally}: no channels installed, so WP-cron has nothing to dispatch`
      : fails
        ? `${tally}: a dispatch from WP-cron as ${webUser.name} will fail`
        : `${tally}: nothing stops a dispatch from WP-cron as ${webUser.name}`;
    const paintSummary = fails ? style.red : (t: string): string => t;
    lines.push(...wrapWords('', 0, summary, width, 0).map(paintSummary));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Whether doctor found no channel registered: doctor/doctor.ts then fails channels.blocks or channels.exists with "no channels installed". */
export function noChannels(checks: readonly Check[]): boolean {
  return checks.some((c) => (c.id === 'channels.blocks' || c.id === 'channels.exists') && c.status === 'fail' && c.message.startsWith('no channels installed'));
}

// ---------------------------------------------------------------- JSON

/** The identity of one bridge, as --json prints it. */
export interface JsonIdentity {
  serviceUser: string;
  /** null from render, which resolves no owners. */
  uid: number | null;
  gid: number | null;
  home: string;
  dataDir: string;
  binary: string;
  site: string;
  init: string;
}

export interface JsonFile {
  path: string;
  status: FileStatus;
  /** The mode the file must have, e.g. "0644". */
  mode: string;
  /** The mode on disk now; null when the file does not exist. */
  currentMode: string | null;
  /** Unified diff from what is on disk to `content` (plus a `mode A -> B` line); "" when unchanged. */
  diff: string;
  /** The whole file after the command (or as it would be); null when it is removed. */
  content: string | null;
}

export interface JsonDirectory {
  path: string;
  status: 'create';
  mode: string;
  uid: number;
  gid: number;
}

export interface JsonCheck {
  id: string;
  status: Check['status'];
  message: string;
  fix: string | null;
}

export interface JsonWebUser {
  name: string;
  source: WebUser['source'];
  pool: string | null;
  others: string[];
}

export interface JsonDocument {
  version: number;
  bridgectl: string;
  command: string;
  exitCode: number;
  dryRun: boolean;
  /** Whether the run changed something under --root (with dryRun: would have); false when it failed before planning. */
  changed: boolean;
  /** The files by status. */
  counts: Counts;
  site: string | null;
  error: { message: string; fix: string | null } | null;
  identities: Record<string, JsonIdentity>;
  notes: string[];
  directories: JsonDirectory[];
  files: JsonFile[];
  webUser: JsonWebUser | null;
  checks: JsonCheck[];
  /** `status`: the installed bridges; empty elsewhere. */
  bridges: JsonBridgeStatus[];
}

export interface JsonInput {
  command: string;
  exitCode: number;
  /** True when the run wrote nothing under --root (check, render, doctor, --dry-run, a failure). */
  dryRun: boolean;
  site?: string;
  plan?: Plan;
  /** false when the plan's owners are placeholders (render). */
  owners?: boolean;
  webUser?: WebUser;
  checks?: readonly Check[];
  error?: { message: string; fix?: string };
  /** `status`: the installed bridges. */
  bridges?: readonly JsonBridgeStatus[];
}

export function jsonDocument(input: JsonInput): JsonDocument {
  const plan = input.plan;
  const owners = input.owners !== false;
  return {
    version: JSON_SCHEMA_VERSION,
    bridgectl: VERSION,
    command: input.command,
    exitCode: input.exitCode,
    dryRun: input.dryRun,
    changed: planChanges(plan),
    counts: countFiles(plan),
    site: input.site ?? null,
    error: input.error ? { message: oneLine(input.error.message), fix: input.error.fix === undefined ? null : oneLine(input.error.fix) } : null,
    identities: Object.fromEntries(Object.entries(plan?.identities ?? {}).map(([id, identity]) => [id, jsonIdentity(identity, owners)])),
    notes: plan?.notes ?? [],
    directories: (plan?.directories ?? []).map((d) => ({ path: d.path, status: 'create', mode: formatMode(d.mode), uid: d.uid, gid: d.gid })),
    files: (plan?.changes ?? []).map((c) => ({
      path: c.path,
      status: c.status,
      mode: formatMode(c.mode),
      currentMode: c.before === null || c.currentMode === undefined ? null : formatMode(c.currentMode),
      ...(c.owner ? { owner: c.owner } : {}),
      diff: formatDiff(c),
      // A credential file's content is never printed, redacted or not.
      content: c.secret ? null : c.after,
    })),
    webUser: input.webUser
      ? { name: input.webUser.name, source: input.webUser.source, pool: input.webUser.pool ?? null, others: input.webUser.others }
      : null,
    checks: (input.checks ?? []).map((c) => ({ id: c.id, status: c.status, message: c.message, fix: c.fix ?? null })),
    bridges: [...(input.bridges ?? [])],
  };
}

function jsonIdentity(identity: Identity, owners: boolean): JsonIdentity {
  return {
    serviceUser: identity.serviceUser,
    uid: owners ? identity.uid : null,
    gid: owners ? identity.gid : null,
    home: identity.home,
    dataDir: identity.dataDir,
    binary: identity.binary,
    site: identity.site,
    init: identity.init,
  };
}

export function formatJson(input: JsonInput): string {
  return redact(`${JSON.stringify(jsonDocument(input), null, 2)}\n`, input.plan?.secrets);
}

/**
 * Replace every credential value seen while planning, wherever it appears
 * (a legacy block's diff, a kept unit line, a note). Secrets are plain
 * token-shaped strings, which JSON encoding leaves unchanged, so one pass
 * over the finished text covers both formats.
 */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...(secrets ?? [])].sort((a, b) => b.length - a.length)) {
    if (secret !== '') out = out.split(secret).join(REDACTED);
  }
  return out;
}

export const REDACTED = '<redacted>';
