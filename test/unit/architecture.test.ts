/**
 * The layout is the flow: each room of installer/ (and bridges/) may import
 * only the rooms before it, so data moves one way — argv -> options -> facts
 * -> identity -> render -> plan -> apply/report — and no import circle can
 * form. Read from the source with TypeScript's own import scanner, type
 * imports included: a type circle is a circle for a reader too.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Room -> the rooms it may import (besides itself). `cli` is the top: it may import every room. */
const ALLOWED: Record<string, readonly string[]> = {
  model: [],
  lib: ['model'],
  process: ['model'],
  facts: ['model', 'lib', 'process'],
  bridges: ['model', 'lib'],
  identity: ['model', 'lib', 'bridges'],
  render: ['model', 'lib'],
  plan: ['model', 'lib', 'bridges', 'identity', 'render'],
  apply: ['model', 'lib', 'process', 'facts'],
  doctor: ['model', 'lib', 'process', 'facts', 'bridges', 'identity', 'render', 'plan'],
  report: ['model', 'lib', 'render'],
  cli: ['model', 'lib', 'process', 'facts', 'bridges', 'identity', 'render', 'plan', 'apply', 'doctor', 'report'],
  bin: ['cli', 'lib'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.posix.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.posix.join(dir, e.name)] : [],
  );
}

function roomOf(file: string): string {
  if (file.startsWith('bridges/')) return 'bridges';
  const parts = file.split('/');
  return parts.length === 2 ? (parts[1] === 'bin.ts' ? 'bin' : 'loose') : (parts[1] as string);
}

/** Every relative import of every source file, as repo paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('installer'), ...sourceFiles('bridges')]) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
    const deps = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
    graph.set(file, deps);
  }
  return graph;
}

/** The files on some import circle, one list per circle (Tarjan's strongly connected components). */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        component.push(w);
      } while (w !== v);
      const selfImport = graph.get(v)?.includes(v) ?? false;
      if (component.length > 1 || selfImport) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const graph = importGraph();

test('every source file lives in a room', () => {
  const loose = [...graph.keys()].filter((f) => !(roomOf(f) in ALLOWED));
  expect(loose).toEqual([]);
});

test('each room imports only the rooms before it', () => {
  const wrong: string[] = [];
  for (const [file, deps] of graph) {
    const from = roomOf(file);
    for (const dep of deps) {
      const to = roomOf(dep);
      if (to !== from && !ALLOWED[from]?.includes(to)) wrong.push(`${file} -> ${dep}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('there is no import circle', () => {
  expect(circles(graph)).toEqual([]);
});

test('the model room holds types and errors only: it imports nothing of ours but itself', () => {
  const model = [...graph].filter(([file]) => roomOf(file) === 'model');
  expect(model.length).toBeGreaterThan(0);
  expect(model.flatMap(([file, deps]) => deps.filter((d) => roomOf(d) !== 'model').map((d) => `${file} -> ${d}`))).toEqual([]);
});

test('the checker sees a circle and a wrong-way import when there is one', () => {
  const sample = new Map([
    ['installer/render/a.ts', ['installer/render/b.ts']],
    ['installer/render/b.ts', ['installer/render/a.ts']],
  ]);
  expect(circles(sample)).toEqual([['installer/render/a.ts', 'installer/render/b.ts']]);
  expect(ALLOWED.render).not.toContain('plan');
});
