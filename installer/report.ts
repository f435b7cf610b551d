/**
 * What commands print: a short human summary (with diffs on --dry-run), or
 * one JSON document. Pure: returns strings.
 */
import { formatMode } from './access.js';
import { formatDiff } from './diff.js';
import type { Plan } from './plan.js';
import { VERSION } from './version.js';

/** Bump when the JSON shape changes incompatibly; pinned by a test. */
export const JSON_SCHEMA_VERSION = 1;

export interface ReportOptions {
  command: string;
  dryRun: boolean;
}

export function formatHuman(plan: Plan, options: ReportOptions): string {
  const lines: string[] = [];
  for (const note of plan.notes) lines.push(`note: ${note}`);
  for (const dir of plan.directories) lines.push(`${'mkdir'.padEnd(9)} ${dir.path} (${formatMode(dir.mode)}, uid ${dir.uid})`);
  for (const change of plan.changes) {
    lines.push(`${change.status.padEnd(9)} ${change.path}`);
  }
  let text = lines.join('\n') + (lines.length ? '\n' : '');
  if (options.dryRun) {
    const diffs = plan.changes.map(formatDiff).filter(Boolean).join('');
    text += diffs;
    text += 'dry run: nothing was written\n';
  }
  return redact(text, plan.secrets);
}

export function formatJson(plan: Plan, options: ReportOptions): string {
  const doc = {
    version: JSON_SCHEMA_VERSION,
    bridgectl: VERSION,
    command: options.command,
    dryRun: options.dryRun,
    identities: plan.identities,
    notes: plan.notes,
    directories: plan.directories.map((d) => ({ path: d.path, status: 'create', mode: formatMode(d.mode), uid: d.uid, gid: d.gid })),
    files: plan.changes.map((c) => ({
      path: c.path,
      status: c.status,
      mode: formatMode(c.mode),
      diff: formatDiff(c),
    })),
  };
  return redact(JSON.stringify(doc, null, 2) + '\n', plan.secrets);
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
