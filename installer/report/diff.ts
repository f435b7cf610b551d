/**
 * Unified diffs of a plan, for --dry-run, check and --json. Pure.
 */
import { createTwoFilesPatch } from 'diff';
import { formatMode } from '../lib/access.js';
import type { FileChange } from '../model/plan.js';

export const SECRET_NOTICE = '(secret file: content not shown)';

export function formatDiff(change: FileChange): string {
  if (change.status === 'unchanged') return '';
  const from = change.before === null ? '/dev/null' : `a${change.path}`;
  const to = change.after === null ? '/dev/null' : `b${change.path}`;
  let text = '';
  if (change.secret) {
    // A credential: say that it changes, never what it is (not even the old value).
    if (change.before !== change.after) text = `--- ${from}\n+++ ${to}\n${SECRET_NOTICE}\n`;
  } else if (change.before !== change.after) {
    text = createTwoFilesPatch(from, to, change.before ?? '', change.after ?? '', undefined, undefined, { context: 3 });
    // Drop the "====" banner line the library adds; keep the ---/+++ headers.
    text = text.replace(/^=+\n/, '');
  }
  if (change.currentMode !== undefined && change.after !== null && change.currentMode !== change.mode) {
    text = `mode ${formatMode(change.currentMode)} -> ${formatMode(change.mode)} ${change.path}\n${text}`;
  }
  if (change.currentOwner && change.owner && change.after !== null) {
    const { uid, gid } = change.currentOwner;
    if (uid !== change.owner.uid || gid !== change.owner.gid) text = `owner ${uid}:${gid} -> ${change.owner.uid}:${change.owner.gid} ${change.path}\n${text}`;
  }
  return text;
}
