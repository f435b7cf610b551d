/**
 * The shipped bin (dist/bridgectl.cjs: one bundle, templates precompiled)
 * must behave exactly as the source does in-process: same stdout, stderr, exit codes, same bytes and
 * modes written. Run by `npm test` after `npm run build`.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bridges } from '../../bridges/index.js';
import { runBin, runMain, type RunResult } from '../helpers/cli.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { CHANNELS, SITE } from '../helpers/sandbox.js';

const ids = bridges.flatMap((b) => ['--bridge', b.id]);

type Step = (root: string) => string[];
const session: Step[] = [
  (root) => ['install', ...ids, '--site', SITE, '--service-user', 'opencode', '--root', root],
  (root) => ['upgrade', '--site', SITE, '--root', root],
  (root) => ['upgrade', '--site', SITE, '--root', root, '--json'],
  (root) => ['upgrade', '--site', SITE, '--root', root, '--service-user', 'root', '--dry-run'],
  // launchd: the second run reads the installed plists back (the plist package, its own bundle in dist/).
  (root) => ['upgrade', '--site', SITE, '--root', root, '--init', 'launchd'],
  (root) => ['upgrade', '--site', SITE, '--root', root, '--dry-run'],
  (root) => ['uninstall', ...ids, '--site', SITE, '--root', root, '--dry-run', '--json'],
  (root) => ['install', '--bridge', 'nope', '--site', SITE, '--root', root],
  (root) => ['upgrade', '--site', '/nowhere', '--root', root],
  () => ['--help'],
  () => ['install', '--help'],
  () => ['--version'],
  () => [],
];

async function play(runner: (argv: string[]) => Promise<RunResult> | RunResult): Promise<string> {
  const root = bridgeSandbox();
  const results = [];
  for (const step of session) {
    const r = await runner(step(root));
    const file = path.join(root, CHANNELS);
    results.push({ ...r, file: readFileSync(file, 'utf8'), mode: statSync(file).mode });
  }
  return JSON.stringify(results, null, 1).split(root).join('<root>');
}

it('the built bin and main() in-process agree byte for byte over a session', async () => {
  const inProcess = await play((argv) => runMain(argv, { PATH: process.env.PATH }));
  const built = await play((argv) => runBin(argv));
  expect(built).toBe(inProcess);
});
