// Rewrite the README's help block from the built CLI (npm run readme).
// test/integration/readme.test.ts fails when they drift apart.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export const HELP_COMMANDS = [[], ['install'], ['upgrade'], ['check'], ['doctor'], ['render'], ['uninstall']];

export function helpBlock() {
  const parts = HELP_COMMANDS.map((cmd) => {
    const out = execFileSync(process.execPath, ['dist/bridgectl.cjs', ...cmd, '--help'], { encoding: 'utf8' });
    return `$ bridgectl ${[...cmd, '--help'].join(' ')}\n${out.trimEnd()}`;
  });
  return '<!-- help:begin -->\n```\n' + parts.join('\n\n') + '\n```\n<!-- help:end -->';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync('README.md', 'utf8');
  const next = readme.replace(/<!-- help:begin -->[\s\S]*<!-- help:end -->/, helpBlock());
  writeFileSync('README.md', next);
}
