/**
 * The fixed inputs every whole-file test renders from: each bridge ×
 * {systemd, launchd} × {root, user}, with the reference units' user (chubes)
 * and site (/var/www/site). Rendered through the real install planner on a
 * fake host, so goldens cover identity resolution and the channel context too.
 */
import { bridges } from '../../bridges/index.js';
import { planInstall } from '../../installer/cli/commands/install.js';
import type { IdentityFlags } from '../../installer/model/identity.js';
import type { Plan } from '../../installer/model/plan.js';
import { dir, exe, fakeHost, wordpressFiles, type FakeHostSpec } from './fake-host.js';

export const SITE = '/var/www/site';
/** Every bridge's secret, by its flag, as a well-shaped sample that is no real credential. */
export const SAMPLE_SECRETS: Readonly<Record<string, string>> = Object.fromEntries(bridges.flatMap((b) => (b.secret ? [[b.secret.flag, b.secret.sample]] : [])));

export type Init = 'systemd' | 'launchd';
export type Who = 'root' | 'user';

export interface RenderCase {
  bridge: string;
  init: Init;
  who: Who;
  /** Extra variant suffix for the golden directory, e.g. 'data-dir'. */
  variant?: string;
  flags?: IdentityFlags;
}

export const RENDER_CASES: RenderCase[] = [
  ...bridges.flatMap((b) =>
    (['systemd', 'launchd'] as const).flatMap((init) => (['root', 'user'] as const).map((who): RenderCase => ({ bridge: b.id, init, who }))),
  ),
  { bridge: 'cc-connect', init: 'systemd', who: 'user', variant: 'data-dir', flags: { dataDir: '/srv/cc-connect' } },
  { bridge: 'cc-connect', init: 'launchd', who: 'user', variant: 'data-dir', flags: { dataDir: '/srv/cc-connect' } },
];

export function caseDir(c: RenderCase): string {
  return `${c.bridge}/${c.init}-${c.who}${c.variant ? `-${c.variant}` : ''}`;
}

/** Where the binaries are: the bash installer's defaults per platform. */
export function binaryDir(init: Init): string {
  return init === 'launchd' ? '/opt/homebrew/bin' : '/usr/bin';
}

export function renderCase(c: RenderCase, overrides: { binDir?: string; files?: FakeHostSpec['files'] } = {}): Plan {
  const bin = overrides.binDir ?? binaryDir(c.init);
  const bridge = bridges.find((b) => b.id === c.bridge);
  if (!bridge) throw new Error(`no bridge ${c.bridge}`);
  const binaries = Object.fromEntries(
    [bridge.binaryName, ...(bridge.serviceBinaries ?? []), ...(bridge.channelBinary ? [bridge.channelBinary] : [])].map((n) => [n, `${n === 'curl' ? '/usr/bin' : bin}/${n}`]),
  );
  const host = fakeHost({
    files: {
      '/root': dir(0, 0, 0o700),
      '/home/chubes': dir(1000, 1000, 0o750),
      [SITE]: dir(),
      ...wordpressFiles(SITE),
      // The binaries the flags name exist: install refuses a --binary that does not.
      ...Object.fromEntries(Object.values(binaries).map((p) => [p, exe()])),
      ...overrides.files,
    },
  });
  return planInstall(
    {
      bridges: [c.bridge],
      site: SITE,
      init: c.init,
      binaries,
      secrets: SAMPLE_SECRETS,
      ...(c.who === 'root' ? { runAsRoot: true } : { serviceUser: 'chubes' }),
      ...c.flags,
    },
    host,
  );
}
