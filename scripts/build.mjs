// Build the shipped CLI (see docs/performance.md for why it is shaped so):
//
//   dist/bridgectl-core.cjs   the CLI: installer/cli.ts and everything it
//                             imports, one CommonJS bundle, templates
//                             precompiled, exports main().
//   dist/bridgectl.cjs        the bin (installer/bin.ts): a few KB that
//                             answers --version and runs the core through a
//                             V8 code cache kept beside it.
//
// A cold start then loads two files instead of hundreds of modules, and
// compiles almost nothing.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
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
  // import.meta.url does not exist in CJS; give each bundle its own file URL.
  banner: { js: "const __bridgectl_url = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
};

/** installer/templates-precompiled.ts → the precompiled specs of templates/*.hbs. */
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

rmSync('dist', { recursive: true, force: true });

await build({
  ...common,
  entryPoints: ['installer/cli.ts'],
  outfile: `dist/${CORE}`,
  define: { 'import.meta.url': '__bridgectl_url', BRIDGECTL_VERSION: JSON.stringify(pkg.version) },
  plugins: [precompiledTemplates],
});

const buildId = createHash('sha256').update(readFileSync(`dist/${CORE}`)).digest('hex').slice(0, 16);

await build({
  ...common,
  entryPoints: ['installer/bin.ts'],
  outfile: 'dist/bridgectl.cjs',
  // bin.ts imports ./cli.js only when run from source; the built bin runs the core instead.
  external: ['./cli.js'],
  define: {
    'import.meta.url': '__bridgectl_url',
    BRIDGECTL_VERSION: JSON.stringify(pkg.version),
    BRIDGECTL_CORE: JSON.stringify(CORE),
    BRIDGECTL_BUILD_ID: JSON.stringify(buildId),
  },
});
