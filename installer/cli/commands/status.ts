/**
 * `bridgectl status`: what is installed for a site, read only. Per bridge
 * its identity as installed (the unit first, then the channel block, as
 * upgrade adopts it), its dispatch mode (the engine's own inspection) and
 * each unit's enabled/active state where the init system can tell: on the
 * live host with systemd running, `systemctl is-enabled` / `is-active`
 * through the process module; under a sandbox --root nothing is asked.
 */
import path from 'node:path';
import { bridges } from '../../../bridges/index.js';
import type { ServiceEnv } from '../../apply/services.js';
import { gather } from '../../facts/gather.js';
import { systemdIsRunning } from '../../facts/init-system.js';
import { resolveSite } from '../../identity/identity.js';
import type { DispatchMode } from '../../model/dispatch.js';
import type { Facts } from '../../model/facts.js';
import type { IdentityFlags } from '../../model/identity.js';
import type { InitSystem } from '../../model/service.js';
import { adopt, survey, type InstalledBridge } from '../../plan/installed.js';
import { processRunner } from '../../process/run.js';
import { formatJson } from '../../report/report.js';
import type { JsonBridgeStatus } from '../../report/status.js';
import { formatStatus } from '../../report/status.js';
import { siteOption } from '../options.js';
import type { CommandSpec } from '../types.js';

/** One installed bridge, before its units are asked about. */
export interface InstalledStatus {
  id: string;
  serviceUser: string | null;
  home: string | null;
  dataDir: string | null;
  binary: string | null;
  dispatch: DispatchMode;
  init: InitSystem;
  /** Unit (or launchd label) and the file that defines it. */
  units: { unit: string; file: string }[];
  notes: string[];
}

/** Whether anything of the bridge is on disk: its block, a service definition or a sudo hop file. */
function isInstalled(installed: InstalledBridge): boolean {
  return installed.block !== undefined || installed.services.size > 0 || (installed.dispatch?.files.size ?? 0) > 0;
}

/** The site's installed bridges, from the facts alone (pure: gather reads for it). */
export function statusOf(flags: IdentityFlags, facts: Facts): { site: string; bridges: InstalledStatus[] } {
  const site = resolveSite(flags, facts);
  const surveyed = survey(bridges, flags, site, facts);
  const out: InstalledStatus[] = [];
  for (const bridge of bridges) {
    const installed = surveyed.installed.get(bridge.id);
    if (!installed || !isInstalled(installed)) continue;
    const notes: string[] = [];
    const adopted = adopt(bridge, installed, notes);
    out.push({
      id: bridge.id,
      // A hop names the user it runs the CLI as even when no unit is installed (--init none).
      serviceUser: adopted.user ?? installed.dispatch?.serviceUser ?? null,
      home: adopted.home ?? null,
      // Nothing pins it: the bridge's default under HOME, as install resolves it.
      dataDir: adopted.dataDir ?? (adopted.home !== undefined ? path.posix.join(adopted.home, bridge.dataDir.underHome) : null),
      binary: adopted.binaries?.[bridge.binaryName] ?? installed.dispatch?.binary ?? null,
      dispatch: installed.dispatch?.mode ?? 'direct',
      init: installed.init ?? 'none',
      units: [...installed.services.entries()].map(([file, s]) => ({ unit: installed.init === 'launchd' ? s.names.label : s.names.unit, file })),
      notes,
    });
  }
  return { site, bridges: out };
}

/** What the init system says of one unit; `unknown` with the reason when it cannot be asked. */
export type UnitState = { enabled: string; active: string } | { unknown: string };

/**
 * Ask systemd about each unit, only where it can answer: the live host
 * (tests name a sandbox as it through ServiceEnv.liveRoot) with systemd
 * running. `is-enabled` and `is-active` print the state on stdout and exit
 * non-zero for anything but enabled/active, so the state is the output.
 */
export function unitStates(status: InstalledStatus, root: string, env: ServiceEnv = {}): UnitState[] {
  const unknown = (why: string): UnitState[] => status.units.map(() => ({ unknown: why }));
  if (root !== (env.liveRoot ?? '/')) return unknown('sandbox');
  if (status.init === 'launchd') return unknown('launchd is not asked');
  if (!(env.systemdRunning ?? systemdIsRunning)()) return unknown('systemd is not running');
  const runner = env.runner ?? processRunner;
  const ask = (verb: string, unit: string): string => {
    const r = runner.runSync('systemctl', [verb, unit], { output: 'capture', timeout: 10_000 });
    const said = r.stdout.trim().split('\n')[0] ?? '';
    if (said !== '') return said;
    return `unknown (systemctl ${verb}: ${r.error ?? (r.status !== null ? `exit status ${r.status}` : (r.signal ?? 'no answer'))})`;
  };
  return status.units.map(({ unit }) => ({ enabled: ask('is-enabled', unit), active: ask('is-active', unit) }));
}

export function jsonBridges(list: readonly InstalledStatus[], states: readonly UnitState[][]): JsonBridgeStatus[] {
  return list.map((b, i) => ({
    id: b.id,
    serviceUser: b.serviceUser,
    home: b.home,
    dataDir: b.dataDir,
    binary: b.binary,
    dispatch: b.dispatch,
    init: b.init,
    units: b.units.map((u, j) => {
      const state = states[i]?.[j] ?? { unknown: 'not asked' };
      return 'unknown' in state
        ? { unit: u.unit, file: u.file, enabled: null, active: null, unknown: state.unknown }
        : { unit: u.unit, file: u.file, enabled: state.enabled, active: state.active, unknown: null };
    }),
  }));
}

export const statusCommand: CommandSpec = {
  command: 'status',
  describe: "What is installed for a site: each bridge's identity, dispatch mode and units' state",
  options: [siteOption],
  examples: [
    ['$0 status --site /var/www/html', 'each installed bridge, its user, home, data dir, dispatch mode and units'],
    ['$0 status --site /var/www/html --json', 'the same as data (the `bridges` key)'],
  ],
  epilogue: 'Reads only. Unit states come from systemctl on the live host; under a sandbox --root they are "unknown (sandbox)". Exit codes: 0 it ran (also with nothing installed), 1 it could not (bad flags, no such site).',
  writes: false,
  run: ({ args, io, style, identity, host }) => {
    const facts = host();
    const { site, bridges: list } = gather(facts, (f) => statusOf(identity, f)).value;
    const states = list.map((b) => unitStates(b, facts.root, io.services));
    const json = jsonBridges(list, states);
    const notes = list.flatMap((b) => b.notes);
    if (args.json) {
      io.stdout(formatJson({ command: 'status', exitCode: 0, dryRun: true, site, bridges: json, plan: { changes: [], directories: [], identities: {}, notes } }));
    } else {
      for (const note of notes) io.stderr(`note: ${note}\n`);
      if (!args.quiet) io.stdout(formatStatus(site, json, style));
    }
    return 0;
  },
};
