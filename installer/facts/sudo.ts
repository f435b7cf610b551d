/** The live sudo's version: a fact planning needs to pick the grant's form, probed once per snapshot. */
import { parseSudoVersion } from '../lib/sudo-version.js';
import { SUDO_PATHS } from '../lib/sudo-paths.js';
import type { SudoVersion } from '../model/facts.js';
import type { Runner } from '../model/process.js';
import { processRunner } from '../process/run.js';

/** The live host's sudo version (`sudo -V` as whoever runs bridgectl), or undefined when there is no sudo. */
export function detectSudoVersion(run: Runner = processRunner, candidates: readonly string[] = SUDO_PATHS): SudoVersion | undefined {
  for (const sudo of candidates) {
    const r = run.runSync(sudo, ['-V'], { input: '', timeout: 30_000 });
    if (r.error === 'ENOENT') continue;
    return parseSudoVersion(r.stdout);
  }
  return undefined;
}
