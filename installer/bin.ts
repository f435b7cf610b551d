#!/usr/bin/env node
/**
 * The bin: wire the real process to main() and set the exit code.
 *
 * Built, this file is dist/bridgectl.cjs: a few KB that Node compiles on
 * every start. The CLI proper (cli.ts and all it imports: yargs, the
 * Handlebars runtime, the engine) is the core bundle beside it, run through
 * a V8 code cache (code-cache.ts). From source it simply imports cli.ts.
 * See docs/performance.md for why, and for the numbers.
 */
import { fstatSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Io } from './cli/cli.js';
import { loadWithCodeCache, type LoadedBundle } from './code-cache.js';
import { VERSION } from './lib/version.js';

/** Set by scripts/build.mjs: the core bundle's file name (beside this one) and its content hash. */
declare const BRIDGECTL_CORE: string | undefined;
declare const BRIDGECTL_BUILD_ID: string | undefined;

type Main = (argv: string[], io: Io) => Promise<number>;

/**
 * Write to fd 1 or 2 with write(2) directly: the first touch of
 * process.stdout on a pipe loads net, stream and tty (~5 ms, a fifth of
 * Node's own start). Should the fd refuse a synchronous write (EAGAIN on a
 * non-blocking pipe) or fail in any other way, the rest goes through
 * process.stdout/stderr, which is exactly what was used before.
 */
const direct = { 1: true, 2: true };
function write(fd: 1 | 2, text: string): void {
  // Only touched when needed: the getter is what loads the stream machinery.
  const stream = (): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);
  if (!direct[fd]) {
    stream().write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
  } catch {
    direct[fd] = false;
    stream().write(bytes.subarray(offset));
  }
}

/**
 * Whether fd 1 is a terminal (colour only then). Not process.stdout.isTTY,
 * and not a top-level import of node:tty either: either one loads tty, net
 * and the stream machinery (~30 modules, ~5 ms) on every run. A pipe or a
 * file, which is what deploy scripts give us, is not a character device, so
 * one fstat answers, and so does a stat of /dev/null for `>/dev/null`; only
 * another character device (a terminal, most likely) loads node:tty to ask
 * isatty(3).
 */
function stdoutIsTTY(): boolean {
  try {
    const st = fstatSync(1);
    if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return false;
  } catch {
    return false; // fd 1 closed, or no /dev/null to compare with: not worth a terminal check
  }
  return (process.getBuiltinModule('node:tty') as typeof import('node:tty')).isatty(1);
}

const argv = process.argv.slice(2);

if (argv.length === 1 && argv[0] === '--version') {
  // Deploy scripts log the version on every run: answer it the way yargs
  // would (VERSION and a newline, exit 0) without loading the CLI at all.
  write(1, `${VERSION}\n`);
} else {
  let core: LoadedBundle | undefined;
  loadMain()
    .then((loaded) => {
      core = loaded.core;
      return loaded.main(argv, {
        stdout: (text) => write(1, text),
        stderr: (text) => write(2, text),
        env: process.env,
        isTTY: stdoutIsTTY(),
        // Read only when an argument or variable holds U+FFFD (input.ts).
        raw: { argv: () => procEntries('cmdline')?.slice(-argv.length), environ: () => procEntries('environ') },
      });
    })
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        write(2, `bridgectl: internal error\n${String(err)}\n`);
        process.exitCode = 1;
      },
    )
    .finally(() => {
      core?.saveCache();
      // main() has settled and every byte went out through write(2): exit
      // now. A natural exit first tears the whole environment and heap down
      // (~1-2 ms a run, docs/performance.md), which buys nothing here. Output
      // that had to go through a stream (see write) is left to flush on the
      // natural exit.
      if (direct[1] && direct[2]) process.exit();
    });
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

async function loadMain(): Promise<{ main: Main; core?: LoadedBundle }> {
  if (typeof BRIDGECTL_CORE === 'string') {
    const core = loadWithCodeCache(path.join(__dirname, BRIDGECTL_CORE), {
      buildId: BRIDGECTL_BUILD_ID ?? '',
      enabled: !process.env.BRIDGECTL_NO_CODE_CACHE,
      tag: argv[0] ?? '',
    });
    return { main: (core.exports as { main: Main }).main, core };
  }
  return { main: (await import('./cli/cli.js')).main };
}
