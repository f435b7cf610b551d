/**
 * Run a CommonJS bundle through a V8 code cache kept beside it, so a cold
 * start deserializes bytecode instead of parsing and compiling the bundle.
 * Used by the shipped bin for the core bundle (see bin.ts, docs/performance.md).
 *
 * The cache is an optimization and nothing else: every problem with it is
 * silently treated as "no cache", and output never depends on it.
 *
 * - Where: `<bundle>.v8cache`, beside the bundle. Written only when the
 *   directory is writable by whoever runs bridgectl; otherwise skipped (no
 *   other location is tried: nothing goes to $HOME or /tmp).
 * - Trusted only if it is a regular file (not a symlink), owned by the
 *   current user or by the bundle's owner, and writable by no one else:
 *   a code cache is code, so it gets the bundle's trust, never less.
 * - Used only if its header matches this format, Node, V8, architecture and
 *   this exact bundle (build id, size and mtime), and it holds the payload
 *   twice, byte for byte. The second copy is the integrity check: a release
 *   V8 does not verify cache payloads, and one flipped byte crashes the
 *   process (V8 "unreachable code", SIGTRAP). Comparing two copies is a
 *   native memcmp; any hash costs more at startup (node:crypto or node:zlib
 *   ~5 ms to load, WebAssembly ~1.5 ms to warm up, a JS loop ~2 ms cold) than
 *   reading the extra copy (~0.3 ms).
 * - V8 itself then rejects data from another V8 build or other flags
 *   (`cachedDataRejected`); the cache is then rewritten after the run.
 * - Written atomically (exclusive temp file, then rename), mode 0644, after
 *   the command has run, so it also holds the functions compiled lazily
 *   during the run. Not fsynced: a torn file fails the checks above. The
 *   temp file is `.<cache name>.<pid>-<time>.tmp`; one that a killed run
 *   left (its pid is gone, or it is over an hour old) is removed whenever a
 *   new cache is written, and only names of exactly that shape.
 * - Tagged with the commands whose runs it holds: the first run of another
 *   command (install after upgrades, say) rewrites it once, as a superset
 *   (what was deserialized plus what that run compiled), so it converges on
 *   what this machine runs instead of staying the first run's. At most
 *   MAX_TAGS commands, so typos cannot keep it churning.
 * - BRIDGECTL_NO_CODE_CACHE=1 disables reading and writing it.
 */
import { isAscii } from 'node:buffer';
import { accessSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const FORMAT = 'bridgectl-v8cache/3';
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
const MAX_TAGS = 8;

export interface CodeCacheOptions {
  /** Identifies the bundle's content (scripts/build.mjs: a hash of it). */
  buildId: string;
  /** false: neither read nor write a cache. */
  enabled: boolean;
  /** What this run is (the command word): the cache is rewritten once for each new one. */
  tag: string;
}

export interface LoadedBundle {
  exports: unknown;
  /** 'used' | 'none' | 'rejected' (by V8) | 'invalid' (by our checks) | 'disabled'. */
  cacheState: string;
  /** Write the cache if it was missing or unusable. Never throws. Call once the work is done. */
  saveCache(): void;
}

export function cachePathFor(bundle: string): string {
  return `${bundle}.v8cache`;
}

export function loadWithCodeCache(bundle: string, options: CodeCacheOptions): LoadedBundle {
  const fd = openSync(bundle, 'r');
  let source: string;
  let key: string;
  let owner: number;
  try {
    const st = fstatSync(fd);
    // An ASCII bundle (scripts/build.mjs makes it one) decodes as latin1, a
    // plain copy, instead of UTF-8 (~0.7 ms less for the core), and V8 gets
    // a one-byte string; anything else is decoded as UTF-8, as before.
    const bytes = readFileSync(fd);
    source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
    owner = st.uid;
    key = [FORMAT, process.version, process.versions.v8, process.arch, options.buildId, st.size, st.mtimeMs].join(' ');
  } finally {
    closeSync(fd);
  }

  const cacheFile = cachePathFor(bundle);
  let cachedData: Buffer | undefined;
  let cacheState = 'disabled';
  let tags: string[] = [];
  const tag = /^[a-z][a-z0-9-]{0,31}$/.test(options.tag) ? options.tag : 'other';
  if (options.enabled) {
    const read = readCache(cacheFile, key, owner);
    cachedData = read.data;
    cacheState = read.state;
    tags = read.tags ?? [];
  }

  // The same wrapper Node's CommonJS loader uses, so the bundle runs as if required.
  const wrapper = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapper, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (cachedData && script.cachedDataRejected) cacheState = 'rejected';
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as unknown };
  run.call(module.exports, module.exports, bundleRequire(bundle), module, bundle, path.dirname(bundle));

  let saved = !options.enabled || (cacheState === 'used' && (tags.includes(tag) || tags.length >= MAX_TAGS));
  return {
    exports: module.exports,
    cacheState,
    saveCache() {
      if (saved) return;
      saved = true;
      const newTags = cacheState === 'used' ? [...tags, tag].sort() : [tag];
      writeCache(cacheFile, key, newTags, () => script.createCachedData());
    },
  };
}

/**
 * The bundle requires only Node builtins (everything else is bundled);
 * anything else goes through a real require. process.getBuiltinModule needs
 * Node >= 20.16 (engines: >= 20.19); node:module is loaded only if needed.
 */
function bundleRequire(bundle: string): (id: string) => unknown {
  let fallback: ((id: string) => unknown) | undefined;
  return (id) =>
    process.getBuiltinModule(id) ?? (fallback ??= (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(bundle))(id);
}

function readCache(file: string, key: string, bundleOwner: number): { data?: Buffer; state: string; tags?: string[] } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return { state: 'none' };
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.() ?? st.uid;
    if (!st.isFile() || st.size > MAX_CACHE_BYTES) return { state: 'invalid' };
    if ((st.uid !== uid && st.uid !== bundleOwner) || (st.mode & 0o022) !== 0) return { state: 'invalid' };
    const bytes = readFileSync(fd);
    const nl = bytes.indexOf(10);
    if (nl < 0 || nl > 1024) return { state: 'invalid' };
    const header = parseHeader(bytes.subarray(0, nl).toString('latin1'));
    if (!header || header.key !== key || bytes.length !== nl + 1 + 2 * header.length) return { state: 'invalid' };
    const payload = bytes.subarray(nl + 1, nl + 1 + header.length);
    if (header.length === 0 || !payload.equals(bytes.subarray(nl + 1 + header.length))) return { state: 'invalid' };
    return { data: payload, state: 'used', tags: header.tags };
  } catch {
    return { state: 'invalid' };
  } finally {
    closeSync(fd);
  }
}

/** Header line: `<key> <tags> <payload length>`; the key itself holds spaces, so parse from the right. */
function parseHeader(line: string): { key: string; tags: string[]; length: number } | undefined {
  const m = /^(.*) ([a-z0-9,-]{1,400}) (\d{1,10})$/.exec(line);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { key: m[1], tags: m[2].split(','), length: Number(m[3]) };
}

function writeCache(file: string, key: string, tags: string[], create: () => Buffer): void {
  const dir = path.dirname(file);
  let temp: string | undefined;
  try {
    accessSync(dir, constants.W_OK); // read-only install: skip before paying for createCachedData
    removeStaleTemps(file);
    const payload = create();
    const header = Buffer.from(`${key} ${tags.join(',')} ${payload.length}\n`, 'latin1');
    temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${Date.now().toString(36)}.tmp`); // see tempPattern
    const fd = openSync(temp, 'wx', 0o644);
    try {
      fchmodSync(fd, 0o644); // not the umask's choice: a group-writable cache would be refused
      writeAll(fd, header);
      writeAll(fd, payload);
      writeAll(fd, payload); // the integrity check (see above)
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    temp = undefined;
  } catch {
    // No cache this time; the next run tries again.
  } finally {
    if (temp) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
    }
  }
}

/** Our temp files for `cache`, and only those: `.<cache name>.<pid>-<base-36 time>.tmp`. */
function tempPattern(cache: string): RegExp {
  return new RegExp(`^\\.${path.basename(cache).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)-[0-9a-z]+\\.tmp$`);
}

const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Remove cache temp files that a killed run left beside `cache`: its pid no
 * longer exists, or the file is over an hour old (a pid reused since). A
 * temp of a run still writing is left alone. Best effort, never throws.
 */
function removeStaleTemps(cache: string): void {
  const dir = path.dirname(cache);
  const ours = tempPattern(cache);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = ours.exec(name)?.[1];
    if (pid === undefined) continue;
    try {
      const file = path.join(dir, name);
      const st = lstatSync(file);
      if (!st.isFile() && !st.isSymbolicLink()) continue;
      if (Number(pid) !== process.pid && (!alive(Number(pid)) || Date.now() - st.mtimeMs > STALE_TEMP_MS)) unlinkSync(file);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}
