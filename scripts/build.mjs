// Build the shipped CLI: dist/bridgectl.cjs, one CommonJS bundle of
// installer/bin.ts and everything it imports, with the templates
// precompiled into it (so it needs only the Handlebars runtime and reads no
// template file but the static PHP transport). Node then loads one file
// instead of hundreds of modules. Not minified: operators' stack traces
// stay readable, and minifying saved no measurable time (docs/performance.md).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { precompiledModuleSource } from './precompile-templates.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

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

await build({
  absWorkingDir: root,
  entryPoints: ['installer/bin.ts'],
  outfile: 'dist/bridgectl.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // import.meta.url does not exist in CommonJS: the bundle's own file URL
  // stands in (lib/paths.ts finds package.json from it; yargs and y18n
  // resolve paths from it).
  define: { 'import.meta.url': '__bridgectl_url', BRIDGECTL_VERSION: JSON.stringify(pkg.version) },
  // "use strict" first, as the ESM source (and the tests) run: a banner line
  // ahead of esbuild's own directive would turn that into a plain string.
  banner: { js: "\"use strict\";\nconst __bridgectl_url = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [precompiledTemplates],
});
