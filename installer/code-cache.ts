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
 *   this exact bundle (build id, size and mtime), and its payload has the
 *   recorded length and checksum. The checksum matters: a release V8 does
 *   not verify cache payloads, and a flipped byte in one crashes the process
 *   (V8 "unreachable code", SIGTRAP), where a checksum mismatch just means
 *   compiling from source.
 * - V8 itself then rejects data from another V8 build or other flags
 *   (`cachedDataRejected`); the cache is then rewritten after the run.
 * - Written atomically (exclusive temp file, then rename), mode 0644, after
 *   the command has run, so it also holds the functions compiled lazily
 *   during the run. Not fsynced: a torn file fails the checks above.
 * - BRIDGECTL_NO_CODE_CACHE=1 disables reading and writing it.
 */
import { accessSync, closeSync, constants, fchmodSync, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const FORMAT = 'bridgectl-v8cache/1';
const MAX_CACHE_BYTES = 64 * 1024 * 1024;

export interface CodeCacheOptions {
  /** Identifies the bundle's content (scripts/build.mjs: a hash of it). */
  buildId: string;
  /** false: neither read nor write a cache. */
  enabled: boolean;
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
    source = readFileSync(fd, 'utf8');
    owner = st.uid;
    key = [FORMAT, process.version, process.versions.v8, process.arch, options.buildId, st.size, st.mtimeMs].join(' ');
  } finally {
    closeSync(fd);
  }

  const cacheFile = cachePathFor(bundle);
  let cachedData: Buffer | undefined;
  let cacheState = 'disabled';
  if (options.enabled) {
    const read = readCache(cacheFile, key, owner);
    cachedData = read.data;
    cacheState = read.state;
  }

  // The same wrapper Node's CommonJS loader uses, so the bundle runs as if required.
  const wrapper = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapper, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (cachedData && script.cachedDataRejected) cacheState = 'rejected';
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as unknown };
  run.call(module.exports, module.exports, bundleRequire(bundle), module, bundle, path.dirname(bundle));

  let saved = !options.enabled || cacheState === 'used';
  return {
    exports: module.exports,
    cacheState,
    saveCache() {
      if (saved) return;
      saved = true;
      writeCache(cacheFile, key, () => script.createCachedData());
    },
  };
}

/** The bundle requires only Node builtins (everything else is bundled); anything else goes through a real require. */
function bundleRequire(bundle: string): (id: string) => unknown {
  let fallback: ((id: string) => unknown) | undefined;
  return (id) =>
    process.getBuiltinModule(id) ?? (fallback ??= (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(bundle))(id);
}

function readCache(file: string, key: string, bundleOwner: number): { data?: Buffer; state: string } {
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
    const payload = bytes.subarray(nl + 1);
    if (!header || header.key !== key || header.length !== payload.length || header.checksum !== checksum(payload)) {
      return { state: 'invalid' };
    }
    return { data: payload, state: 'used' };
  } catch {
    return { state: 'invalid' };
  } finally {
    closeSync(fd);
  }
}

/** Header line: `<key> <payload length> <checksum>`; the key itself holds spaces, so parse from the right. */
function parseHeader(line: string): { key: string; length: number; checksum: number } | undefined {
  const m = /^(.*) (\d{1,10}) (\d{1,10})$/.exec(line);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { key: m[1], length: Number(m[2]), checksum: Number(m[3]) };
}

function writeCache(file: string, key: string, create: () => Buffer): void {
  const dir = path.dirname(file);
  let temp: string | undefined;
  try {
    accessSync(dir, constants.W_OK); // read-only install: skip before paying for createCachedData
    const payload = create();
    const header = Buffer.from(`${key} ${payload.length} ${checksum(payload)}\n`, 'latin1');
    temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${Date.now().toString(36)}.tmp`);
    const fd = openSync(temp, 'wx', 0o644);
    try {
      fchmodSync(fd, 0o644); // not the umask's choice: a group-writable cache would be refused
      writeSync(fd, header);
      writeSync(fd, payload);
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

/** The little of the WebAssembly API used here (lib DOM, which declares it, is not in tsconfig). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
let wasmHash: ((length: number) => number) | undefined;
let wasmMemory: WasmMemory | undefined;

/**
 * 32-bit FNV-1a over little-endian 32-bit words (zero-padded), mixed with a
 * running sum of its states (so the result depends on every position). Computed in a 100-byte WebAssembly function:
 * ~0.2 ms for a cache, where a JS loop takes ~3 ms at startup (interpreted)
 * and loading node:crypto or node:zlib ~5 ms. Detects corruption, not
 * tampering (tampering is what the ownership and mode checks are for).
 */
export function checksum(bytes: Uint8Array): number {
  if (!wasmHash || !wasmMemory) {
    const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(checksumModule()));
    wasmMemory = instance.exports.m as WasmMemory;
    wasmHash = instance.exports.h as (length: number) => number;
  }
  const padded = (bytes.length + 3) & ~3;
  const have = wasmMemory.buffer.byteLength;
  if (padded > have) wasmMemory.grow(Math.ceil((padded - have) / 65536));
  const memory = new Uint8Array(wasmMemory.buffer);
  memory.set(bytes);
  memory.fill(0, bytes.length, padded);
  return (wasmHash(padded) ^ Math.imul(bytes.length, 0x9e3779b1)) >>> 0; // the length too: padding hides it
}

/** The module, assembled here so it can be read: (func $h (param $len i32) (result i32)) and memory "m". */
function checksumModule(): Uint8Array {
  const u = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const s = (n: number): number[] => {
    const out: number[] = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const section = (id: number, content: number[]): number[] => [id, ...u(content.length), ...content];
  const [I32, GET, SET, TEE, CONST] = [0x7f, 0x20, 0x21, 0x22, 0x41];
  const LEN = 0, H = 1, SUM = 2, I = 3;
  const body = [
    1, 3, I32, // locals $h $sum $i
    CONST, ...s(0x811c9dc5 | 0), SET, H,
    0x02, 0x40, // block
    0x03, 0x40, // loop
    GET, I, GET, LEN, 0x4f, 0x0d, 1, // br_if 1 (i >= len)
    GET, H, GET, I, 0x28, 2, 0, 0x73, CONST, ...s(16777619), 0x6c, TEE, H, // h = (h ^ mem[i]) * FNV prime
    GET, SUM, 0x6a, SET, SUM, // sum += h
    GET, I, CONST, 4, 0x6a, SET, I, // i += 4
    0x0c, 0, // br 0
    0x0b, 0x0b, // end loop, end block
    GET, H, GET, SUM, CONST, 16, 0x77, 0x73, // h ^ rotl(sum, 16)
    0x0b,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, I32, 1, I32]), // type: (i32) -> i32
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0, 1]), // memory, min 1 page
    ...section(7, [2, 1, 0x6d, 2, 0, 1, 0x68, 0, 0]), // export "m" memory 0, "h" func 0
    ...section(10, [1, ...u(body.length), ...body]),
  ]);
}
