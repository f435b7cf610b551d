/** Snapshots of a sandbox root: every file's bytes, mode and mtime, to prove a run changed nothing (or exactly what it should). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface FileState {
  content: string;
  mode: number;
  mtimeMs: number;
}

export function snapshot(root: string): Map<string, FileState> {
  const out = new Map<string, FileState>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const st = statSync(full);
        out.set(`/${path.relative(root, full)}`, { content: readFileSync(full, 'utf8'), mode: st.mode & 0o7777, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(root);
  return out;
}

/** Server paths whose content matches. */
export function filesContaining(root: string, needle: string): string[] {
  return [...snapshot(root)].filter(([, f]) => f.content.includes(needle)).map(([p]) => p);
}
