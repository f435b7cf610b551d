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
  return text;
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
      ...(c.owner ? { owner: c.owner } : {}),
      diff: formatDiff(c),
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
