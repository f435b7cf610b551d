/**
 * SIGKILL at random moments while a process rewrites a large managed file
 * over and over (lock, read, stage, fsync, php -l, rename, fsync dir): after
 * every kill the file is the old version or the new one, whole, and passes
 * php -l; nothing ending in .php is left beside it; the next run removes any
 * stale temp file.
 *
 * BRIDGECTL_SLOW=1 (npm run test:slow) kills many more times.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { renderScaffold } from '../../installer/render/channel.js';
import { listBlocks, removeBlock } from '../../installer/render/markers.js';
import { sandbox } from '../helpers/sandbox.js';
import { at, CHANNELS, leftovers, MU, phpLintOk } from '../helpers/safety.js';
import { buildWriter, runWriter } from '../helpers/writer.js';

const SLOW = process.env.BRIDGECTL_SLOW === '1';
const KILLS = SLOW ? 60 : 10;
const LINES = 20000; // ~1.4 MB per version: writes and php -l take long enough to be hit mid-way

/** Start `writer churn`, let it run for `ms` after its first write began, SIGKILL it; resolves with how many writes completed. */
function churnThenKill(root: string, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [buildWriter(), 'churn', root, '/var/www/html', String(LINES)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => resolve(out.split('\n').filter(Boolean).length));
  });
}

describe('SIGKILL during writes', () => {
  beforeAll(() => buildWriter());

  it(`${KILLS} kills at random moments: the file is always old-or-new, whole, php -l clean`, async () => {
    const root = sandbox();
    mkdirSync(at(root, MU), { recursive: true });
    const scaffold = renderScaffold();
    writeFileSync(at(root, CHANNELS), scaffold);
    let completed = 0;
    let staleTemps = 0;
    let killsMidWrite = 0;

    for (let i = 0; i < KILLS; i++) {
      completed += await churnThenKill(root, 150 + Math.floor(Math.random() * 700));

      const text = readFileSync(at(root, CHANNELS), 'utf8');
      const churn = listBlocks(text).find((b) => b.id === 'churn');
      expect(removeBlock(text, 'churn')).toBe(scaffold); // nothing outside the block was ever damaged
      if (churn) {
        // A whole version: all LINES lines, every comment line of one variant.
        expect(churn.body).toHaveLength(LINES);
        const variants = new Set(churn.body.slice(1).map((l) => l.trim().split(' ')[1]));
        expect(variants.size).toBe(1);
      }
      expect(phpLintOk(at(root, CHANNELS))).toBe(true);
      const left = leftovers(at(root, MU));
      expect(left.php).toEqual(['wp-coding-agents-channels.php']); // no temp file WordPress would load
      staleTemps = left.temps.length; // what this kill left (the next churn run removes it)
      if (staleTemps > 0) killsMidWrite++;
    }
    expect(completed).toBeGreaterThan(0);
    if (process.env.BRIDGECTL_CRASH_STATS) process.stderr.write(`crash: ${completed} writes completed, ${killsMidWrite}/${KILLS} kills landed mid-write\n`);

    // The next run removes what the killed ones left, and says so.
    const next = await runWriter(['add', root, '/var/www/html', 'after-crash']);
    expect(next.code).toBe(0);
    if (staleTemps > 0) expect(next.stderr).toMatch(/removed \/var\/www\/html\/wp-content\/mu-plugins\/\.wp-coding-agents-channels\.php\.bridgectl-[0-9a-f]{12}\.tmp, left by an interrupted run/);
    expect(leftovers(at(root, MU)).temps).toEqual([]);
  });
});
