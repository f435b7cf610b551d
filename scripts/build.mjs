// Build the shipped CLI (see docs/performance.md for why it is shaped so):
//
//   dist/bridgectl-core.cjs   the CLI: installer/cli/cli.ts and everything it
//                             imports, one CommonJS bundle, templates
//                             precompiled, exports main().
//   dist/bridgectl.cjs        the bin (installer/bin.ts): a few KB that
//                             answers --version and runs the core through a
//                             V8 code cache kept beside it.
//
// A cold start then loads two files instead of hundreds of modules, and
// compiles almost nothing.
import { analyzeMetafile, build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { precompiledModuleSource } from './precompile-templates.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const CORE = 'bridgectl-core.cjs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // import.meta.url does not exist in CJS: give the bundle its own file URL,
  // computed when first read (only off the hot path: compiling templates
  // from source, finding package.json).
  // "use strict" first: a banner line ahead of esbuild's own directive turns
  // that into a plain string, and the bundle ran in sloppy mode (the ESM
  // source, and the tests, are strict).
  banner: { js: "\"use strict\";\nconst __bridgectl_meta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
  legalComments: 'none',
  logLevel: 'warning',
};

/** installer/render/templates-precompiled.ts → the precompiled specs of templates/*.hbs. */
const precompiledTemplates = {
  name: 'precompiled-templates',
  setup(b) {
    b.onResolve({ filter: /^\.\/templates-precompiled\.js$/ }, () => ({ path: 'templates-precompiled', namespace: 'bridgectl' }));
    b.onLoad({ filter: /^templates-precompiled$/, namespace: 'bridgectl' }, () => ({
      contents: precompiledModuleSource(path.join(root, 'templates')),
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/** Replace `from` (which must occur exactly once) by `to`, or fail the build. */
function patchOnce(text, from, to, file) {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) {
    throw new Error(`build: ${file} changed; cannot apply the patch for ${JSON.stringify(from.slice(0, 80))} (see scripts/build.mjs)`);
  }
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/**
 * yargs, patched in the bundle for a CLI that starts in a few ms. Each patch
 * must match exactly once, so a yargs upgrade that moves the text fails the
 * build instead of silently shipping the slow path (docs/performance.md).
 */
const yargsPatches = {
  // The ESM platform shim:
  'lib/platform-shims/esm.mjs': (args) => {
    const y18nLib = createRequire(args.path).resolve('y18n').replace(/build[\\/]index\.cjs$/, 'build/lib/index.js');
    return [
      // node:assert costs ~4 ms to load; yargs uses these two for internal invariant checks.
      [
        "import { notStrictEqual, strictEqual } from 'assert'\n",
        [
          'const strictEqual = (actual, expected, message) => {',
          '  if (!Object.is(actual, expected)) throw new Error(message ?? `Expected values to be strictly equal: ${inspect(actual)} !== ${inspect(expected)}`)',
          '}',
          'const notStrictEqual = (actual, expected, message) => {',
          '  if (Object.is(actual, expected)) throw new Error(message ?? `Expected "actual" to be strictly unequal to: ${inspect(expected)}`)',
          '}',
          '',
        ].join('\n'),
      ],
      // Reading process.stdout.columns at import builds the stdout stream
      // (net, stream, tty: ~5 ms on a pipe); only help text needs the width.
      [
        "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
        "get stdColumns () { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null }",
      ],
      // It works out where yargs is installed (a file URL round trip, at
      // import) only to find a package.json from there, which the bundle
      // never does (see yargs-factory.js below): computed on first use.
      [
        "let __dirname;\ntry {\n  __dirname = fileURLToPath(import.meta.url);\n} catch (e) {\n  __dirname = process.cwd();\n}\nconst mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));\n",
        [
          'const lazyMainFilename = () => {',
          '  let __dirname;',
          '  try {',
          '    __dirname = fileURLToPath(import.meta.url);',
          '  } catch (e) {',
          '    __dirname = process.cwd();',
          '  }',
          "  return __dirname.substring(0, __dirname.lastIndexOf('node_modules'));",
          '}',
          '',
        ].join('\n'),
      ],
      ['mainFilename: mainFilename || process.cwd(),', 'get mainFilename () { return lazyMainFilename() || process.cwd() },'],
      // y18n would look for locale files at <bundle>/../../../locales, a path
      // outside the package once bundled. Messages are English whatever LANG
      // is (as they already were in the bundle), now without touching the disk.
      ["import { inspect } from 'util'", "import { format, inspect } from 'util'"],
      ["import y18n from 'y18n'", `import { y18n as y18nWithShim } from ${JSON.stringify(y18nLib)}`],
      [
        "y18n: y18n({\n    directory: resolve(__dirname, '../../../locales'),\n    updateFiles: false\n  })",
        [
          'y18n: y18nWithShim({ updateFiles: false }, {',
          "    fs: { readFileSync () { throw Object.assign(new Error('no locale files in the bundle'), { code: 'ENOENT' }) } },",
          '    format,',
          '    resolve,',
          '    exists: () => false',
          '  })',
        ].join('\n'),
      ],
    ];
  },
  // argsert checks how the program calls yargs' own API (argument counts and
  // types, from signatures parsed on every call) and only ever console.warns:
  // ~1 ms per run spent on a check that source and tests still make.
  'build/lib/argsert.js': () => [
    [
      'export function argsert(arg1, arg2, arg3) {\n',
      'export function argsert(arg1, arg2, arg3) {\n    return; // bridgectl bundle: API-usage warnings only (scripts/build.mjs)\n',
    ],
  ],
  // Every yargs instance starts with .version() and no argument, which
  // guesses a version by listing the current directory and each parent
  // until one holds a package.json, and parsing it: the deploy script's
  // package.json, or a readdir of a big site directory, on every run.
  // cli.ts sets VERSION itself right after; without a guess the default is
  // the 'unknown' yargs falls back to anyway.
  'build/lib/yargs-factory.js': () => [
    ["const obj = this[kPkgUp]();\n        return obj.version || 'unknown';", "return 'unknown'; // bridgectl bundle: no package.json hunt (scripts/build.mjs)"],
    // Every internal call asks for getInternalMethods(), which binds 16
    // methods into a new object each time (hundreds of binds per run). The
    // object depends only on the instance: made once per instance.
    [
      'getInternalMethods() {\n        return {',
      'getInternalMethods() {\n        return (bridgectlInternalMethods.get(this) ?? bridgectlInternalMethods.set(this, this.bridgectlMakeInternalMethods()).get(this));\n    }\n    bridgectlMakeInternalMethods() {\n        return {',
    ],
    ['export class YargsInstance {', 'const bridgectlInternalMethods = new WeakMap(); // scripts/build.mjs\nexport class YargsInstance {'],
  ],
  // After a command's handler runs, yargs renders the whole help text and
  // keeps it (4-8 ms, on every run) in case the program later asks for
  // help in that command's context. bridgectl never does: main() runs the
  // command after parsing returns, and --help and failures are rendered
  // during parsing, before this point.
  'build/lib/command.js': () => [
    [
      'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();',
      '/* bridgectl bundle: no help pre-rendered after a command (scripts/build.mjs) */',
    ],
  ],
};

const yargsPatch = {
  name: 'yargs-patches',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/](lib|build)[\\/].*\.m?js$/ }, (args) => {
      const rel = args.path.replace(/^.*[\\/]node_modules[\\/]yargs[\\/]/, '').replace(/\\/g, '/');
      const patches = yargsPatches[rel];
      if (!patches) return undefined;
      let text = readFileSync(args.path, 'utf8');
      for (const [from, to] of patches(args)) text = patchOnce(text, from, to, `yargs/${rel}`);
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * cliui (yargs' help layout), patched likewise. Help with .wrap(null) still
 * asks for the window width, and `process.stdout.columns` builds the stdout
 * stream (tty, net, stream: ~30 modules, ~5 ms) just to learn that a pipe
 * has no columns. Only a character device can be a terminal: for anything
 * else (a pipe, a file, /dev/null) the answer is the same 80, without the
 * stream.
 */
const cliuiPatches = {
  'build/lib/index.js': () => [
    [
      "function getWindowWidth() {\n",
      [
        'function getWindowWidth() {',
        '    // bridgectl bundle: a pipe or a file has no columns; do not build process.stdout to learn it (scripts/build.mjs)',
        '    try {',
        "      const fs = process.getBuiltinModule('node:fs'), st = fs.fstatSync(1);",
        "      if (!st.isCharacterDevice() || st.rdev === fs.statSync('/dev/null').rdev) return 80;",
        '    } catch { return 80; }',
        '',
      ].join('\n'),
    ],
  ],
};

const cliuiPatch = {
  name: 'cliui-patches',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]cliui[\\/]build[\\/].*\.m?js$/ }, (args) => {
      const rel = args.path.replace(/^.*[\\/]node_modules[\\/]cliui[\\/]/, '').replace(/\\/g, '/');
      const patches = cliuiPatches[rel];
      if (!patches) return undefined;
      let text = readFileSync(args.path, 'utf8');
      for (const [from, to] of patches(args)) text = patchOnce(text, from, to, `cliui/${rel}`);
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * Modules that only some commands need, loaded on first call instead of at
 * start: `diff` renders --dry-run and --json diffs, never a plain upgrade;
 * `execa` starts processes (installer/process/run.ts), which a no-op run never does;
 * `plist` reads installed launchd plists (installer/lib/plist.ts).
 * Imports of them from installer/ get a stand-in whose functions require
 * the real module when first called. The real module is its own bundle
 * beside the core, dist/bridgectl-lazy-<name>.cjs (lazyFile): bundled into
 * the core behind a lazy initializer, it was still read, and deserialized
 * from the code cache, on every start (diff: 72 KB, ~1 ms of each run). A
 * name that is not a plain function fails the build (a stand-in could not
 * be faithful to it).
 */
const LAZY = ['diff', 'execa', 'plist'];
const lazyFile = (name) => `bridgectl-lazy-${name.replace(/[^a-z0-9-]/gi, '-')}.cjs`;
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const filter = new RegExp(`^(${LAZY.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) =>
      /[\\/]installer[\\/]/.test(args.importer) ? { path: args.path, namespace: 'lazy' } : undefined,
    );
    // The stand-in's require of the sibling bundle stays a require, resolved at run time beside the core.
    b.onResolve({ filter: /^\.\/bridgectl-lazy-[a-z0-9-]+\.cjs$/i }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, async (args) => {
      const real = await import(args.path);
      const names = Object.keys(real).filter((n) => n !== 'default' && typeof real[n] === 'function' && !/^[A-Z]/.test(n));
      const lines = [
        `// ${args.path}, loaded on first use from its own bundle (scripts/build.mjs)`,
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(`./${lazyFile(args.path)}`)}));`,
        ...names.map((n) => `export function ${n}(...args) { return load().${n}.apply(this, args); }`),
      ];
      return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
    });
  },
};

/**
 * `import path from 'node:path'` in each of our modules becomes, in a
 * CommonJS bundle, esbuild's __toESM(require('node:path')): a fresh object
 * with a getter for every export of the module, built at startup once per
 * importing module (21 of them: ~0.5 ms a run), and a getter call on every
 * path.join after that. Our imports of node:path resolve instead to one ESM
 * module that requires it once and exports it as it is.
 */
const nodePathOnce = {
  name: 'node-path-once',
  setup(b) {
    b.onResolve({ filter: /^node:path$/ }, (args) =>
      args.namespace === 'file' && /[\\/](installer|bridges)[\\/]/.test(args.importer) ? { path: 'node:path', namespace: 'node-path-once' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-path-once' }, () => ({
      contents: "const path = require('node:path');\nexport default path;\nexport const posix = path.posix;\n",
      loader: 'js',
    }));
  },
};

rmSync('dist', { recursive: true, force: true });

const core = await build({
  ...common,
  // Whitespace and syntax only, not identifiers: a third less to read and
  // copy on every start (~1 ms of each run, docs/performance.md), while an
  // internal error's stack still names the functions it went through.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  entryPoints: ['installer/cli/cli.ts'],
  outfile: `dist/${CORE}`,
  define: { 'import.meta.url': '__bridgectl_meta.url', BRIDGECTL_VERSION: JSON.stringify(pkg.version) },
  plugins: [precompiledTemplates, yargsPatch, cliuiPatch, lazyModules, nodePathOnce],
});

// The lazy modules, each its own CommonJS bundle beside the core.
for (const name of LAZY) {
  await build({
    ...common,
    banner: {},
    // export *, not require: a package may export only under the "import" condition (plist).
    stdin: { contents: `export * from ${JSON.stringify(name)};`, resolveDir: root, loader: 'js' },
    outfile: `dist/${lazyFile(name)}`,
  });
}

// An ASCII core is read as latin1, a plain copy, instead of decoded as UTF-8
// on every start (installer/code-cache.ts). esbuild already escapes every
// non-ASCII character in code (charset: ascii) and keeps comments verbatim:
// there an escape changes nothing. Non-ASCII anywhere else fails the build.
{
  const file = `dist/${CORE}`;
  const lines = readFileSync(file, 'utf8').split('\n');
  let changed = false;
  for (const [i, line] of lines.entries()) {
    // eslint-disable-next-line no-control-regex
    if (!/[^\x00-\x7f]/.test(line)) continue;
    if (!/^\s*\/\//.test(line)) throw new Error(`build: non-ASCII outside a comment in ${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
    // eslint-disable-next-line no-control-regex
    lines[i] = line.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
    changed = true;
  }
  if (changed) writeFileSync(file, lines.join('\n'));
}

// BRIDGECTL_BUILD_ANALYZE=1 npm run build: what the core is made of (docs/performance.md).
if (process.env.BRIDGECTL_BUILD_ANALYZE) console.log(await analyzeMetafile(core.metafile));

const buildId = createHash('sha256').update(readFileSync(`dist/${CORE}`)).digest('hex').slice(0, 16);

await build({
  ...common,
  entryPoints: ['installer/bin.ts'],
  outfile: 'dist/bridgectl.cjs',
  // bin.ts imports ./cli.js only when run from source; the built bin runs the core instead.
  external: ['./cli.js'],
  banner: {}, // the bin reads no import.meta.url (only code that is dead here does)
  define: {
    'import.meta.url': 'undefined',
    BRIDGECTL_VERSION: JSON.stringify(pkg.version),
    BRIDGECTL_CORE: JSON.stringify(CORE),
    BRIDGECTL_BUILD_ID: JSON.stringify(buildId),
  },
});
