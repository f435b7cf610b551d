// Build the shipped CLI: one CommonJS bundle, so a cold start loads one
// file instead of hundreds of modules (see README, Performance).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { precompiledModuleSource } from './precompile-templates.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** installer/templates-precompiled.ts → the precompiled specs of templates/*.hbs. */
const precompiledTemplates = {
  name: 'precompiled-templates',
  setup(b) {
    b.onResolve({ filter: /^\.\/templates-precompiled\.js$/ }, () => ({ path: 'templates-precompiled', namespace: 'bridgectl' }));
    b.onLoad({ filter: /^templates-precompiled$/, namespace: 'bridgectl' }, () => ({
      contents: precompiledModuleSource('templates'),
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};

await build({
  entryPoints: ['installer/bin.ts'],
  outfile: 'dist/bridgectl.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // import.meta.url does not exist in CJS; give the bundle its own file URL.
  banner: { js: "const __bridgectl_url = require('node:url').pathToFileURL(__filename).href;" },
  define: {
    'import.meta.url': '__bridgectl_url',
    BRIDGECTL_VERSION: JSON.stringify(pkg.version),
  },
  legalComments: 'none',
  plugins: [precompiledTemplates],
  logLevel: 'warning',
});
