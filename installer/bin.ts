#!/usr/bin/env node
/**
 * The bin: wire the real process to main() and set the exit code.
 *
 * Built, this is dist/bridgectl.cjs, a few lines that turn on Node's
 * compile cache and then load the CLI bundle, dist/cli.cjs: the cache only
 * covers code compiled after it is turned on, and a single file is
 * compiled before its first line runs (scripts/build.mjs).
 */
import { accessSync, constants, lstatSync, readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache();
void run(process.argv.slice(2));

/** The one error boundary: main() reports every error it knows; anything else is a bug in bridgectl. */
async function run(argv: string[]): Promise<void> {
  try {
    const { main } = await import('./cli/cli.js');
    process.exitCode = await main(argv, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      env: process.env,
      isTTY: process.stdout.isTTY === true,
      ...(process.stdout.isTTY === true && process.stdout.columns ? { columns: process.stdout.columns } : {}),
      // Read only when an argument or variable holds U+FFFD (input.ts).
      raw: { argv: () => procEntries('cmdline')?.slice(-argv.length), environ: () => procEntries('environ') },
    });
  } catch (err) {
    process.stderr.write(`bridgectl: internal error\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

/**
 * Node's compile cache (Node >= 22.1; on Node 20 there is none and this
 * does nothing), kept in <package>/.compile-cache. Not Node's default, a
 * directory in the shared tmp dir: bridgectl runs as root, and whoever
 * creates that directory first decides which compiled code root then
 * loads (V8 does not verify a cache's payload). Whoever may write the
 * package directory can change the code itself anyway, so a cache there
 * adds no one. Used only when that directory is writable by us and the
 * cache directory, if it exists, is ours and writable by no one else;
 * NODE_COMPILE_CACHE, when set, is the operator's choice and Node has
 * already applied it (NODE_DISABLE_COMPILE_CACHE turns it off either way).
 */
function enableCompileCache(): void {
  const enable = (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (!enable || process.env.NODE_COMPILE_CACHE) return;
  try {
    const packageDir = fileURLToPath(new URL('..', import.meta.url));
    const dir = `${packageDir}.compile-cache`;
    accessSync(packageDir, constants.W_OK);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st && (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0)) return;
    enable(dir);
  } catch {
    // not writable: no cache, nothing else changes
  }
}

/** The NUL-separated entries of /proc/self/cmdline or environ: the bytes the process was given (Linux only). */
function procEntries(file: 'cmdline' | 'environ'): Buffer[] | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(`/proc/self/${file}`);
  } catch {
    return undefined;
  }
  const out: Buffer[] = [];
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(0, start);
    out.push(bytes.subarray(start, end < 0 ? bytes.length : end));
    start = end < 0 ? bytes.length : end + 1;
  }
  return out;
}
