/**
 * #19 item 7: switching bridges to the sudo hop lists `mkdir
 * /usr/local/lib/bridgectl` once, however many bridges get a hop, in the
 * text report, on --dry-run and in --json.
 */
import { existsSync, statSync } from 'node:fs';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { at, SITE } from '../helpers/sandbox.js';

const LIB = '/usr/local/lib/bridgectl';

async function installedDirect(): Promise<string> {
  const root = bridgeSandbox();
  // The two bridges with a sudo hop (telegram has none).
  const r = await runMain(['install', '--bridge', 'kimaki', '--bridge', 'cc-connect', '--site', SITE, '--service-user', 'opencode', '--root', root]);
  expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
  expect(existsSync(at(root, LIB))).toBe(false);
  return root;
}

const mkdirLines = (stdout: string): string[] => stdout.split('\n').filter((l) => /^mkdir\s/.test(l) && l.includes(` ${LIB} `));

describe('upgrade --dispatch sudo over several bridges', () => {
  it('lists mkdir /usr/local/lib/bridgectl once: dry run, run, and --json', async () => {
    const root = await installedDirect();
    const upgrade = (...extra: string[]) => runMain(['upgrade', '--site', SITE, '--dispatch', 'sudo', '--root', root, ...extra]);

    const dry = await upgrade('--dry-run');
    expect([dry.code, dry.stderr]).toEqual([0, '']);
    expect(dry.stdout.match(/dispatch changes from direct to sudo/g)?.length).toBeGreaterThan(1); // several hops, one directory
    expect(mkdirLines(dry.stdout)).toEqual([`mkdir     ${LIB} (0755, uid 0)`]);

    const json = await upgrade('--dry-run', '--json');
    const doc = JSON.parse(json.stdout) as { directories: { path: string }[] };
    expect(doc.directories.filter((d) => d.path === LIB)).toHaveLength(1);

    const run = await upgrade();
    expect(run.code).toBe(0);
    expect(mkdirLines(run.stdout)).toHaveLength(1);
    expect(statSync(at(root, LIB)).isDirectory()).toBe(true);

    // Made once, it is not listed again.
    expect(mkdirLines((await upgrade()).stdout)).toEqual([]);
  });
});
