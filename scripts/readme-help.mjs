// Rewrite what the docs show of the built CLI and the bridge registry (npm run readme):
// docs/cli.md's help block and docs/bridges.md's bridge table (scripts/bridges-table.ts).
// test/integration/readme.test.ts fails when they drift apart.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

export const HELP_COMMANDS = [[], ['install'], ['upgrade'], ['check'], ['doctor'], ['render'], ['uninstall']];

export function helpBlock() {
  const parts = HELP_COMMANDS.map((cmd) => {
    const out = execFileSync(process.execPath, ['dist/bridgectl.cjs', ...cmd, '--help'], { encoding: 'utf8' });
    return `$ bridgectl ${[...cmd, '--help'].join(' ')}\n${out.trimEnd()}`;
  });
  return '<!-- help:begin -->\n```\n' + parts.join('\n\n') + '\n```\n<!-- help:end -->';
}

/** The table module, bundled from TypeScript in memory (the registry is TypeScript; this script is not). */
async function bridgesTableModule() {
  const out = await build({ entryPoints: ['scripts/bridges-table.ts'], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'error' });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

/** Write both; run from the repository root after a build. */
export async function writeDocs() {
  const cli = readFileSync('docs/cli.md', 'utf8');
  writeFileSync('docs/cli.md', cli.replace(/<!-- help:begin -->[\s\S]*<!-- help:end -->/, () => helpBlock()));
  const { withBridgesTable } = await bridgesTableModule();
  writeFileSync('docs/bridges.md', withBridgesTable(readFileSync('docs/bridges.md', 'utf8')));
}

if (import.meta.url === `file://${process.argv[1]}`) await writeDocs();
