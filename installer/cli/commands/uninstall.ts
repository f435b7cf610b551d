import { SECRET_FILE_MODE, SERVICE_FILE_MODE } from '../../plan/engine.js';
import { channelsChange, registersChannels, transportChange } from '../../plan/site-files.js';
import { inspectInstalled, lazyCandidateHomes, readChannelsFile, requireBridge } from '../../plan/installed.js';
import type { Facts } from '../../model/facts.js';
import { resolveSite } from '../../identity/identity.js';
import { type Plan } from '../../model/plan.js';
import { fileChange } from '../../plan/changes.js';
import { removeDispatch } from '../../plan/sudo-hop.js';
import { bridgeOption, siteOption } from '../options.js';
import type { CommandSpec } from '../types.js';

export interface UninstallOptions {
  bridges: string[];
  site?: string;
  skipWordpressCheck?: boolean;
  serviceUser?: string;
  runAsRoot?: boolean;
}

/** Remove exactly the named bridges' blocks and service definitions; everything else stays. Data dirs are kept. */
export function planUninstall(options: UninstallOptions, host: Facts): Plan {
  const site = resolveSite(options, host);
  const channels = readChannelsFile(site, host);
  const notes: string[] = [];
  const homes = lazyCandidateHomes(options, host, channels.parsed);
  const changes = [];
  const secrets: string[] = [];
  for (const id of options.bridges) {
    const bridge = requireBridge(id);
    const installed = inspectInstalled(bridge, channels.parsed, host, homes);
    if (installed.block === undefined && installed.services.size === 0 && !installed.dispatch?.files.size) notes.push(`${id} is not installed for ${site}`);
    for (const [path, service] of installed.services) changes.push(fileChange(path, service.text, null, SERVICE_FILE_MODE, service.mode));
    if (bridge.secret) {
      // The credential file is the bridge's too; left behind it would be a token nobody manages.
      const text = host.readText(bridge.secret.file.path);
      if (text !== undefined) {
        changes.push({ ...fileChange(bridge.secret.file.path, text, null, SECRET_FILE_MODE, host.stat(bridge.secret.file.path)?.mode), secret: true });
        const value = bridge.secret.file.read(text);
        if (value) secrets.push(value);
      }
      if (installed.blockText !== undefined) secrets.push(...bridge.secret.findIn(installed.blockText));
    }
    if (installed.dispatch) changes.push(...removeDispatch(installed.dispatch)); // the sudo hop's three files
  }
  const blocks = channels.text === undefined ? [] : [channelsChange(channels, options.bridges.map((id) => ({ id, body: null })))];
  // The transport goes with the last channel (custom channels need it too).
  const transport = transportChange(site, host, blocks.some(registersChannels));
  return { changes: [...blocks, transport, ...changes], directories: [], identities: {}, notes, secrets };
}

export const uninstallCommand: CommandSpec = {
  command: 'uninstall',
  describe: "Remove exactly the named bridges' blocks and service definitions",
  options: [
    bridgeOption,
    siteOption,
    {
      options: {
        'service-user': { type: 'string', describe: 'Whose home holds launchd plists (systemd units need no hint)', requiresArg: true },
        'run-as-root': { type: 'boolean', describe: 'launchd plists are under /root' },
        reload: {
          type: 'boolean',
          default: true,
          describe: 'On the live host, systemctl disable --now each unit before removing it, then daemon-reload, and reload PHP-FPM (OPcache); --no-reload skips and prints what to run',
        },
      },
    },
  ],
  examples: [['$0 uninstall --bridge kimaki --site /var/www/html', 'remove the kimaki channel']],
  writes: true,
  plan: (args, identity, host) => planUninstall({ ...identity, bridges: args.bridge ?? [] }, host),
};
