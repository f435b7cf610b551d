/**
 * How much a plan reads (docs/performance.md): upgrade inspects each bridge
 * once (to see whether it is installed, then to render it from the same
 * inspection), reads the channels file once, and works out the launchd
 * candidate homes (a parse of every block) only for a bridge with no
 * systemd unit. Counted through a Facts that records every read.
 */
import { main, type Io } from '../../installer/cli/cli.js';
import { planUpgrade } from '../../installer/cli/commands/upgrade.js';
import { nodeHost } from '../../installer/facts/host.js';
import { type Facts } from '../../installer/model/facts.js';
import { bridgeIds, bridges as bridgeDefs } from '../../bridges/index.js';
import { ALL_UNITS, bridgeSandbox, SECRET_ENV } from '../helpers/bridge-sandbox.js';
import { CHANNELS, SITE } from '../helpers/sandbox.js';

/** A sandbox host that counts readText calls per server path. */
function countingHost(root: string): { host: Facts; reads: Map<string, number> } {
  const real = nodeHost(root, {});
  const reads = new Map<string, number>();
  const host: Facts = {
    ...real,
    readText: (p) => {
      reads.set(p, (reads.get(p) ?? 0) + 1);
      return real.readText(p);
    },
  };
  return { host, reads };
}

async function install(root: string, bridges: readonly string[]): Promise<void> {
  let stderr = '';
  const io: Io = { stdout: () => undefined, stderr: (t) => (stderr += t), env: SECRET_ENV };
  const argv = ['install', ...bridges.flatMap((b) => ['--bridge', b]), '--site', SITE, '--service-user', 'opencode', '--root', root, '--no-reload'];
  expect({ code: await main(argv, io), stderr: stderr.replace(/^note: .*\n/gm, '') }).toEqual({ code: 0, stderr: '' });
}

it('upgrade reads the channels file, every unit and every hop file once, however many bridges it inspects and renders', async () => {
  const root = bridgeSandbox();
  await install(root, bridgeIds);
  const { host, reads } = countingHost(root);
  const plan = planUpgrade({ site: SITE }, host);
  expect(plan.changes.filter((c) => c.status !== 'unchanged')).toEqual([]);
  expect(reads.get(CHANNELS)).toBe(1);
  // The secret files alone are read twice (to resolve the secret, then as the file's current content): a few bytes.
  const twice = [...reads].filter(([, n]) => n > 1).map(([p]) => p);
  expect(twice.sort()).toEqual(bridgeDefs.flatMap((b) => (b.secret ? [b.secret.file.path] : [])).sort());
  // Every unit and plist path was looked at: the reads above are the whole inspection, not a skipped one.
  expect([...reads.keys()].filter((p) => p.startsWith('/etc/systemd/system/')).sort()).toEqual(ALL_UNITS.map((u) => `/etc/systemd/system/${u}`));
});

it('launchd homes are looked for only for a bridge without a systemd unit', async () => {
  const root = bridgeSandbox();
  await install(root, ['kimaki']);
  const { host, reads } = countingHost(root);
  planUpgrade({ site: SITE }, host);
  const plists = [...reads.keys()].filter((p) => p.endsWith('.plist'));
  // kimaki has its unit: no plist of its own is looked for; a bridge that is not installed is looked for once, in the
  // home the blocks pin — never in other passwd homes, where any user could plant one (engine.ts, inspectInstalled).
  expect(plists.filter((p) => p.includes('kimaki'))).toEqual([]);
  expect(plists.filter((p) => p.includes('cc-connect'))).toEqual(['/home/opencode/Library/LaunchAgents/com.wp.cc-connect.plist']);
  expect([...reads.values()].every((n) => n === 1)).toBe(true);
});
