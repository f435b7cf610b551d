#!/usr/bin/env node
// Does a command write anything under a directory tree? Runs it under
// strace and lists every system call that writes or would write there:
//   - open/openat/openat2/creat with O_WRONLY, O_RDWR, O_CREAT or O_TRUNC
//     (read-only opens are fine),
//   - write/pwrite/writev/ftruncate/fchmod/fchown/fsync-free writes on a
//     descriptor of a file in the tree (strace -y names each fd's path),
//   - rename, link, unlink, rmdir, mkdir, chmod, chown, truncate, utime
//     and symlink on a path in the tree.
// Attempts count, successful or not: a no-op has no business trying.
//
//   node scripts/check-noop-writes.mjs <tree> -- <command> [args…]
//
// Exits 0 when clean, 1 with the offending lines otherwise, 2 when strace
// is unusable (missing, or ptrace forbidden). Used by scripts/bench.mjs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PATH_CALLS = [
  'rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat', 'rmdir',
  'mkdir', 'mkdirat', 'mknod', 'mknodat', 'chmod', 'fchmodat', 'chown', 'lchown', 'fchownat', 'truncate',
  'utime', 'utimes', 'utimensat', 'futimesat', 'setxattr', 'lsetxattr', 'removexattr', 'lremovexattr',
];
const FD_CALLS = ['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'ftruncate', 'fchmod', 'fchown', 'fallocate', 'fsetxattr', 'fremovexattr'];
const OPEN_CALLS = ['open', 'openat', 'openat2', 'creat'];
const WRITE_FLAGS = /\bO_(WRONLY|RDWR|CREAT|TRUNC)\b/;

export function stracePresent() {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * Run argv under strace; returns { status, violations: string[], output }.
 * Throws when strace itself cannot trace (exit 2 from the CLI).
 */
export function checkNoWrites(tree, argv, { env = process.env } = {}) {
  const roots = [...new Set([path.resolve(tree), realpathSync(tree)])];
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-strace-'));
  const log = path.join(dir, 'trace');
  try {
    const calls = [...PATH_CALLS, ...FD_CALLS, ...OPEN_CALLS].join(',');
    const r = spawnSync('strace', ['-f', '-qq', '-y', '-s', '64', '-o', log, '-e', `trace=${calls}`, ...argv], {
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    let text;
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      throw new Error(`strace produced no trace (exit ${r.status}): ${r.stderr.trim()}`);
    }
    if (/PTRACE_TRACEME|Operation not permitted/.test(r.stderr) && text.trim() === '') {
      throw new Error(`strace cannot trace here: ${r.stderr.trim()}`);
    }
    return { status: r.status, violations: violations(text, roots), output: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The trace lines that write (or try to) under one of roots. */
export function violations(trace, roots) {
  const inTree = (s) => roots.some((root) => s.includes(`"${root}/`) || s.includes(`"${root}"`) || s.includes(`<${root}/`) || s.includes(`<${root}>`));
  const out = [];
  for (const raw of trace.split('\n')) {
    const line = raw.replace(/^\d+\s+/, '');
    const m = /^(\w+)\(/.exec(line);
    if (!m || !inTree(line)) continue;
    const call = m[1];
    if (OPEN_CALLS.includes(call)) {
      // The file opened: its path, resolved against the dirfd's (strace -y) when relative.
      const am = /^\w+\((?:(?:AT_FDCWD|\d+)(?:<([^>]*)>)?, )?"((?:[^"\\]|\\.)*)"/.exec(line);
      const target = am ? (am[2].startsWith('/') ? am[2] : `${am[1] ?? ''}/${am[2]}`) : '';
      if (inTree(`"${target}"`) && (call === 'creat' || WRITE_FLAGS.test(line))) out.push(raw);
    } else if (FD_CALLS.includes(call)) {
      // Only the descriptor (first argument) matters, not a path inside the data written.
      const fdArg = /^\w+\((\d+<[^>]*>)/.exec(line)?.[1] ?? '';
      if (inTree(`${fdArg}`)) out.push(raw);
    } else if (PATH_CALLS.includes(call)) {
      out.push(raw);
    }
  }
  return out;
}

// CLI
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const sep = args.indexOf('--');
  if (sep !== 1 || args.length < 3) {
    process.stderr.write('usage: check-noop-writes.mjs <tree> -- <command> [args…]\n');
    process.exit(2);
  }
  if (!stracePresent()) {
    process.stderr.write('check-noop-writes: strace not found (apt-get install strace)\n');
    process.exit(2);
  }
  let result;
  try {
    result = checkNoWrites(args[0], args.slice(2));
  } catch (err) {
    process.stderr.write(`check-noop-writes: ${err.message}\n`);
    process.exit(2);
  }
  if (result.status !== 0) process.stderr.write(`check-noop-writes: note: the command exited ${result.status}\n`);
  if (result.violations.length) {
    process.stderr.write(`check-noop-writes: ${result.violations.length} write(s) under ${args[0]}:\n${result.violations.join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`check-noop-writes: no writes under ${args[0]}\n`);
}
