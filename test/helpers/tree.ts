/** Snapshots of a sandbox root: every file's bytes, mode and mtime, to prove a run changed nothing (or exactly what it should). */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
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

/**
 * Every entry under root, keyed by its path relative to root (directories end
 * in '/'): type, mode, owner, a link's target, a file's bytes. What "nothing
 * else changed" is checked against, down to a mode or an owner.
 */
export function entries(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      const meta = `${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.set(`${path.relative(root, p)}/`, meta);
        walk(p);
      } else if (st.isSymbolicLink()) out.set(path.relative(root, p), `${meta} -> ${readlinkSync(p)}`);
      else if (st.isFile()) out.set(path.relative(root, p), `${meta} ${readFileSync(p, 'latin1')}`);
      else out.set(path.relative(root, p), meta);
    }
  };
  walk(root);
  return out;
}
