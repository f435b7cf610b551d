/** The live sudo's version: a fact planning needs to pick the grant's form, probed once per snapshot. */
import { parseSudoVersion, SUDO_PATHS } from '../lib/sudo-version.js';
import type { SudoVersion } from '../model/facts.js';
import { spawnRunner, type Runner } from '../process/runner.js';

/** The live host's sudo version (`sudo -V` as whoever runs bridgectl), or undefined when there is no sudo. */
export function detectSudoVersion(run: Runner = spawnRunner, candidates: readonly string[] = SUDO_PATHS): SudoVersion | undefined {
  for (const sudo of candidates) {
    const r = run(sudo, ['-V']);
    if (r.error === 'ENOENT') continue;
    return parseSudoVersion(r.stdout);
  }
  return undefined;
}
