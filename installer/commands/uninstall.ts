import { channelsChange, inspectInstalled, readChannelsFile, requireBridge, SERVICE_FILE_MODE } from '../engine.js';
import type { Host } from '../host.js';
import { resolveSite } from '../identity.js';
import { fileChange, type Plan } from '../plan.js';
import { removeDispatch } from '../sudo-hop.js';

export interface UninstallOptions {
  bridges: string[];
  site?: string;
  serviceUser?: string;
  runAsRoot?: boolean;
}

/** Remove exactly the named bridges' blocks and service definitions; everything else stays. Data dirs are kept. */
export function planUninstall(options: UninstallOptions, host: Host): Plan {
  const site = resolveSite(options, host);
  const channels = readChannelsFile(site, host);
  const notes: string[] = [];
  const homes = [options.serviceUser ?? (options.runAsRoot ? 'root' : undefined) ?? host.env.SERVICE_USER]
    .flatMap((name) => (name ? (host.user(name)?.home ?? []) : []));
  const changes = [];
  for (const id of options.bridges) {
    const installed = inspectInstalled(requireBridge(id), channels.text, host, homes);
    if (installed.block === undefined && installed.services.size === 0 && !installed.dispatch?.files.size) notes.push(`${id} is not installed for ${site}`);
    for (const [path, service] of installed.services) changes.push(fileChange(path, service.text, null, SERVICE_FILE_MODE, service.mode));
    if (installed.dispatch) changes.push(...removeDispatch(installed.dispatch)); // the sudo hop's three files
  }
  const blocks = channels.text === undefined ? [] : [channelsChange(channels, options.bridges.map((id) => ({ id, body: null })))];
  return { changes: [...blocks, ...changes], directories: [], identities: {}, notes };
}
