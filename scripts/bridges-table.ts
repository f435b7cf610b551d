/**
 * The bridge table of docs/bridges.md, generated from the bridge registry
 * (`npm run readme` and `npm run golden:update` write it between the
 * bridges-table markers; test/integration/readme.test.ts fails when it is stale).
 */
import path from 'node:path';
import { bridges } from '../bridges/index.js';
import type { BridgeDefinition } from '../installer/model/bridge.js';
import type { Identity } from '../installer/model/identity.js';

export const BEGIN = '<!-- bridges-table:begin -->';
export const END = '<!-- bridges-table:end -->';

const HOME = '/home/opencode';
const code = (text: string): string => `\`${text}\``;

/** An identity with every default, so the channel shows as an install with no data-dir override writes it. */
function sampleIdentity(bridge: BridgeDefinition): Identity {
  const names = [bridge.binaryName, ...(bridge.serviceBinaries ?? []), ...(bridge.channelBinary ? [bridge.channelBinary] : [])];
  const binaries = Object.fromEntries(names.map((n) => [n, `/usr/local/bin/${n}`]));
  return {
    serviceUser: 'opencode',
    uid: 1000,
    gid: 1000,
    home: HOME,
    dataDir: path.posix.join(HOME, bridge.dataDir.underHome),
    binary: binaries[bridge.binaryName] as string,
    binaries,
    site: '/var/www/html',
    init: 'systemd',
  };
}

function channelCell(bridge: BridgeDefinition, identity: Identity): [string, string] {
  const command = bridge.channelBinary ? identity.binaries[bridge.channelBinary] : undefined;
  const spec = bridge.channel(identity, { ...(command ? { command } : {}), ...(bridge.secret ? { secretFile: bridge.secret.file.path } : {}) });
  if (spec === null) return ['none', 'none'];
  const runs = `${code([path.posix.basename(spec.command), ...spec.args].join(' '))} (${spec.detach ? 'detached' : 'waits'}, ${spec.timeout} s)`;
  const env = spec.env.length ? spec.env.map(([k]) => code(k)).join(', ') : 'none';
  return [runs, env];
}

function row(bridge: BridgeDefinition): string {
  const [runs, env] = channelCell(bridge, sampleIdentity(bridge));
  const services = `${bridge.units.map((u) => code(u.unit)).join(' + ')} / ${bridge.units.map((u) => code(u.label)).join(' + ')}`;
  const under = code(`<home>/${bridge.dataDir.underHome}`);
  const dataDir = bridge.dataDir.env ? `${code(bridge.dataDir.env)}, else ${under}` : `${under} (fixed)`;
  const secret = bridge.secret ? `${code(bridge.secret.flag)} or env ${code(bridge.secret.env)}, kept in ${code(bridge.secret.file.path)}` : 'none';
  return `| ${code(bridge.id)} | ${runs} | ${env} | ${services} | ${dataDir} | ${secret} |`;
}

export function bridgesTable(): string {
  return [
    BEGIN,
    '| Bridge | Channel runs | Channel env | Services (systemd / launchd) | Data dir | Secret |',
    '|---|---|---|---|---|---|',
    ...bridges.map(row),
    END,
  ].join('\n');
}

/** docs/bridges.md with its table replaced by the current one. */
export function withBridgesTable(markdown: string): string {
  const from = markdown.indexOf(BEGIN);
  const to = markdown.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/bridges.md: no ${BEGIN} … ${END} block`);
  return markdown.slice(0, from) + bridgesTable() + markdown.slice(to + END.length);
}
