/**
 * Benchmark fixture generator (scripts/bench.mjs runs it through esbuild):
 * grow a real channels file, as installed by the CLI, to N channel blocks
 * with the project's own renderer and marker engine, so the file is exactly
 * what bridgectl itself would write.
 *
 *   node gen.mjs <channels file> <total blocks>     (rewrites the file)
 *
 * The blocks added are kimaki-shaped, with ids bench-00001…; upgrade does
 * not re-render them (no bridge has those ids) but must parse them all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderChannelBody } from '../installer/render/channel.js';
import { listBlocks, spliceBlocks, type BlockChange } from '../installer/render/markers.js';

const [file, totalText] = process.argv.slice(2);
const total = Number(totalText);
if (!file || !Number.isSafeInteger(total) || total < 1) {
  process.stderr.write('usage: bench-channels <channels file> <total blocks>\n');
  process.exit(2);
}

const text = readFileSync(file, 'utf8');
const present = listBlocks(text).length;
const changes: BlockChange[] = [];
for (let i = present + 1; i <= total; i++) {
  const id = `bench-${String(i).padStart(5, '0')}`;
  changes.push({
    id,
    body: renderChannelBody({
      name: id,
      command: '/usr/local/bin/kimaki',
      args: ['send', '--channel', '{recipient}', '--prompt', '{message}'],
      detach: true,
      timeout: 600,
      env: [
        ['HOME', '/home/opencode'],
        ['KIMAKI_DATA_DIR', `/home/opencode/.kimaki-${id}`],
      ],
    }),
  });
}
writeFileSync(file, spliceBlocks(text, changes));
process.stdout.write(`${listBlocks(readFileSync(file, 'utf8')).length}\n`);
