/**
 * Bundle test/fixtures/writer.ts once per worker (esbuild, ~100 ms) so tests
 * can run many real processes through the lock + plan + apply path.
 */
import { buildSync } from 'esbuild';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { RunResult } from './cli.js';

// Under node_modules so paths.ts still finds our package.json (and templates) by walking up.
export const WRITER = path.resolve(`node_modules/.cache/bridgectl-tests/writer-${process.pid}.cjs`);
let built = false;

export function buildWriter(): string {
  if (built) return WRITER;
  buildSync({
    entryPoints: ['test/fixtures/writer.ts'],
    outfile: WRITER,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: "const __bridgectl_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__bridgectl_url', BRIDGECTL_VERSION: '"test"' },
    logLevel: 'warning',
  });
  built = true;
  return WRITER;
}

/** Run the writer as its own process. */
export function runWriter(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [buildWriter(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
