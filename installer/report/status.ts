/** `bridgectl status`'s output: the `bridges` entries of its JSON document, and the same as text. Pure. */
import type { Style } from './style.js';

/** One unit of a bridge as status reports it: systemctl's words, or null and why it was not asked. */
export interface JsonUnitStatus {
  unit: string;
  file: string;
  /** `systemctl is-enabled`'s answer (enabled, disabled, masked, …); null when unknown. */
  enabled: string | null;
  /** `systemctl is-active`'s answer (active, inactive, failed, …); null when unknown. */
  active: string | null;
  /** Why the state is unknown (`sandbox`, `systemd is not running`, …); null when it was asked. */
  unknown: string | null;
}

export interface JsonBridgeStatus {
  id: string;
  serviceUser: string | null;
  home: string | null;
  dataDir: string | null;
  binary: string | null;
  dispatch: 'direct' | 'sudo';
  init: 'systemd' | 'launchd' | 'none';
  units: JsonUnitStatus[];
}

const unset = (v: string | null): string => v ?? '(not set)';

/** Per bridge: a heading line, then its identity, dispatch and units, indented. */
export function formatStatus(site: string, list: readonly JsonBridgeStatus[], style: Style): string {
  if (list.length === 0) return `${site}: no bridges installed (bridgectl install --bridge <id> --site ${site})\n`;
  const lines = [`${site}: ${list.length} bridge(s) installed`];
  for (const b of list) {
    lines.push(style.bold(b.id));
    lines.push(`  user      ${unset(b.serviceUser)}`);
    lines.push(`  home      ${unset(b.home)}`);
    lines.push(`  data dir  ${unset(b.dataDir)}`);
    lines.push(`  binary    ${unset(b.binary)}`);
    lines.push(`  dispatch  ${b.dispatch}`);
    if (b.units.length === 0) lines.push(`  units     none (init ${b.init})`);
    for (const u of b.units) {
      const state = u.unknown !== null ? `unknown (${u.unknown})` : `${paint(u.enabled ?? '', ['enabled'], style)}, ${paint(u.active ?? '', ['active'], style)}`;
      lines.push(`  unit      ${u.unit}: ${state}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function paint(word: string, good: readonly string[], style: Style): string {
  return good.includes(word) ? style.green(word) : style.yellow(word);
}
