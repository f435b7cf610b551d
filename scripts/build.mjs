// Build the shipped CLI (docs/performance.md says why it is shaped so):
//
//   dist/cli.cjs        one CommonJS bundle of installer/cli/cli.ts and all
//                       it imports, templates precompiled (so it needs only
//                       the Handlebars runtime and reads no template file
//                       but the static PHP transport): Node loads one file
//                       instead of hundreds of modules.
//   dist/bridgectl.cjs  the bin (installer/bin.ts): turns on Node's compile
//                       cache, then loads dist/cli.cjs. The cache covers
//                       only code compiled after that, hence two files.
//   dist/lazy-*.cjs     execa, plist and yargs, loaded on first use (LAZY below).
//
// Not minified: operators' stack traces stay readable.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { precompiledModuleSource } from './precompile-templates.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The bin's import of the CLI → the CLI bundle beside it, loaded at run time. */
const cliBesideBin = {
  name: 'cli-beside-bin',
  setup(b) {
    b.onResolve({ filter: /^\.\/cli\/cli\.js$/ }, (args) => (args.importer.endsWith('bin.ts') ? { path: './cli.cjs', external: true } : undefined));
  },
};

/**
 * Packages only some runs need: execa (a run that starts a process), plist
 * (reading an installed launchd plist, with xmldom and xmlbuilder under it)
 * and yargs (help, completion, and a command line too unusual for
 * cli/plain-argv.ts) are most of the code, which Node would otherwise parse
 * on every start. Each is its own file beside the CLI
 * (dist/lazy-<name>.cjs), required on first use: a require() of one
 * (execa) requires that file when it runs; an import() of one (yargs) gets
 * a module that requires it when the import runs and exports its default;
 * a static import of one (plist) gets a getter per export that requires it.
 */
const LAZY = ['execa', 'plist', 'yargs'];
const require = createRequire(import.meta.url);
/** The stand-in for one lazy package: a getter per export name, each requiring the real file on first use. */
function standIn(name) {
  const names = Object.keys(require(path.join(root, 'dist', `lazy-${name}.cjs`)));
  const load = `const load = () => require('./lazy-${name}.cjs');`;
  return [load, ...names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`)].join('\n');
}
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${LAZY.join('|')})$`) }, (args) => {
      if (args.kind === 'require-call') return { path: `./lazy-${args.path}.cjs`, external: true };
      return { path: args.path, namespace: args.kind === 'dynamic-import' ? 'lazy-default' : 'lazy' };
    });
    b.onResolve({ filter: /^\.\/lazy-[a-z-]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({ contents: standIn(args.path), loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-default' }, (args) => ({ contents: `export default require('./lazy-${args.path}.cjs').default;`, loader: 'js' }));
  },
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

rmSync(path.join(root, 'dist'), { recursive: true, force: true });

// The packages themselves, as ES modules (plist exports only under the "import" condition): every export, and a default one if there is.
for (const name of LAZY) {
  const reexport = `export * from ${JSON.stringify(name)};${name === 'yargs' ? ` export { default } from 'yargs';` : ''}`;
  await build({
    absWorkingDir: root,
    stdin: { contents: reexport, resolveDir: root, loader: 'js' },
    outfile: `dist/lazy-${name}.cjs`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
  });
}

await build({
  absWorkingDir: root,
  entryPoints: { bridgectl: 'installer/bin.ts', cli: 'installer/cli/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The bin's import() of dist/cli.cjs as a plain require: no trip through the ESM loader.
  supported: { 'dynamic-import': false },
  // import.meta.url does not exist in CommonJS: the file's own URL stands
  // in (lib/paths.ts finds package.json from it, bin.ts the package's dir).
  define: { 'import.meta.url': '__bridgectl_url', BRIDGECTL_VERSION: JSON.stringify(pkg.version) },
  // "use strict" first, as the ESM source (and the tests) run: a banner line
  // ahead of esbuild's own directive would turn that into a plain string.
  banner: { js: "\"use strict\";\nconst __bridgectl_url = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [cliBesideBin, precompiledTemplates, lazyPackages],
});
