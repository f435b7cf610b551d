// Build the shipped CLI: one CommonJS bundle, so a cold start loads one
// file instead of hundreds of modules (see README, Performance).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

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
  logLevel: 'warning',
});
