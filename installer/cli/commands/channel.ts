/**
 * Custom channels: blocks an operator registers by hand (`channel set`),
 * living beside the bridge blocks in the same region. Bridge ids are
 * refused here (install/upgrade own them), and upgrade never touches a
 * custom block: it only rewrites the blocks of the bridges it renders.
 */
import path from 'node:path';
import { bridges, findBridge } from '../../../bridges/index.js';
import { parseChannelBody, renderChannelBody } from '../../render/channel.js';
import { type ChannelSpec } from '../../model/channel.js';
import { channelsChange, registersChannels, transportChange } from '../../plan/site-files.js';
import { checked, readChannelsFile } from '../../plan/installed.js';
import { ExitCode, UsageError } from '../../model/errors.js';
import type { Facts } from '../../model/facts.js';
import { gather } from '../../facts/gather.js';
import { requireExecutable, resolveSite } from '../../identity/identity.js';
import { BLOCK_ID, listBlocks } from '../../render/markers.js';
import type { Plan } from '../../model/plan.js';
import { JSON_SCHEMA_VERSION, redact } from '../../report/report.js';
import { VERSION } from '../../lib/version.js';
import { CONTROL_CHARACTER } from '../../lib/php.js';
import { shellQuote } from '../../lib/shell.js';
import { allowMissingBinaryOption, seconds, siteOption } from '../options.js';
import type { SiteFlags } from '../../identity/site.js';
import type { CommandSpec } from '../types.js';

export interface ChannelSetOptions extends SiteFlags {
  allowMissingBinary?: boolean;
  name: string;
  command: string;
  args: string[];
  /** `K=V` entries, in order. */
  env: string[];
  detach: boolean;
  timeout: number;
}

/** Add or replace a custom channel block. */
export function planChannelSet(options: ChannelSetOptions, host: Facts): Plan {
  checkCustomName(options.name);
  if (!path.posix.isAbsolute(options.command)) {
    throw new UsageError(`--command must be an absolute path, got ${JSON.stringify(options.command)}`, 'PHP spawns it with the web user\'s PATH, so name the executable exactly');
  }
  if (!Number.isSafeInteger(options.timeout) || options.timeout < 0) {
    throw new UsageError(`--timeout must be a whole number of seconds, got ${String(options.timeout)}`);
  }
  const spec: ChannelSpec = {
    name: options.name,
    command: options.command,
    args: options.args,
    detach: options.detach,
    timeout: options.timeout,
    env: parseEnv(options.env),
  };
  const site = resolveSite(options, host);
  const channels = readChannelsFile(site, host);
  const notes: string[] = [];
  const facts = host.stat(options.command);
  // As install's --binary: a path that is no executable is refused, unless the operator says it will be one.
  if (options.allowMissingBinary !== true) requireExecutable(options.command, '--command', host);
  if (facts?.kind !== 'file' || (facts.mode & 0o111) === 0) {
    notes.push(`channel ${options.name}: ${options.command} is not an executable file${host.root === '/' ? '' : ` under --root ${host.root}`}; dispatch will fail until it is`);
  }
  const entry = channelsChange(channels, [{ id: options.name, body: renderChannelBody(spec) }]);
  // A custom channel needs the transport as much as a bridge's does.
  return { changes: [entry, transportChange(site, host, registersChannels(entry))], directories: [], identities: {}, notes };
}

/** Remove a custom channel block (absent: a no-op with a note). */
export function planChannelRemove(options: SiteFlags & { name: string }, host: Facts): Plan {
  checkCustomName(options.name);
  const site = resolveSite(options, host);
  const channels = readChannelsFile(site, host);
  const present = channels.text !== undefined && listBlocks(channels.text).some((b) => b.id === options.name);
  const notes = present ? [] : [`no channel named '${options.name}' in ${channels.path}`];
  const blocks = channels.text === undefined ? [] : [channelsChange(channels, [{ id: options.name, body: null }])];
  // The transport goes with the last channel, as on uninstall.
  return { changes: [...blocks, transportChange(site, host, blocks.some(registersChannels))], directories: [], identities: {}, notes };
}

export interface ListedChannel {
  name: string;
  /** The bridge that owns the block, or null for a custom channel. */
  bridge: string | null;
  /** Parsed entry; null when the block is not in bridgectl's format. */
  spec: ChannelSpec | null;
}

export interface ChannelListing {
  file: string;
  exists: boolean;
  channels: ListedChannel[];
  /** Credentials found in blocks (a legacy telegram URL): redacted from the output. */
  secrets: string[];
}

export function listChannels(options: { site?: string }, host: Facts): ChannelListing {
  const site = resolveSite(options, host);
  const channels = readChannelsFile(site, host);
  const text = channels.text;
  if (text === undefined) return { file: channels.path, exists: false, channels: [], secrets: [] };
  const blocks = checked(channels.path, () => listBlocks(text));
  return {
    file: channels.path,
    exists: true,
    channels: blocks.map((b) => ({ name: b.id, bridge: findBridge(b.id)?.id ?? null, spec: parseChannelBody(b.body) ?? null })),
    secrets: bridges.flatMap((b) => (b.secret ? b.secret.findIn(text) : [])),
  };
}

export function formatChannelList(listing: ChannelListing, json: boolean): string {
  let text: string;
  if (json) {
    const doc = {
      version: JSON_SCHEMA_VERSION,
      bridgectl: VERSION,
      command: 'channel list',
      exitCode: ExitCode.ok,
      error: null,
      file: listing.file,
      exists: listing.exists,
      channels: listing.channels.map((c) => ({
        name: c.name,
        bridge: c.bridge,
        readable: c.spec !== null,
        ...(c.spec ? { command: c.spec.command, args: c.spec.args, detach: c.spec.detach, timeout: c.spec.timeout, env: Object.fromEntries(c.spec.env) } : {}),
      })),
    };
    text = JSON.stringify(doc, null, 2) + '\n';
  } else if (!listing.exists) {
    text = `no channels file: ${listing.file}\n`;
  } else if (listing.channels.length === 0) {
    text = `no channels in ${listing.file}\n`;
  } else {
    text = listing.channels.map(formatOne).join('');
  }
  return redact(text, listing.secrets);
}

function formatOne(channel: ListedChannel): string {
  const owner = channel.bridge === null ? 'custom' : `bridge ${channel.bridge}`;
  const spec = channel.spec;
  if (!spec) return `${channel.name} (${owner}): not in bridgectl's format\n`;
  const lines = [
    `${channel.name} (${owner})`,
    `  command  ${escaped(spec.command) ?? spec.command}`,
    `  args     ${spec.args.map(shown).join(' ')}`,
    `  detach   ${spec.detach ? 'yes' : 'no'}, timeout ${spec.timeout}s`,
  ];
  if (spec.env.length > 0) lines.push(`  env      ${spec.env.map(([k, v]) => `${escaped(k) ?? k}=${shown(v)}`).join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * A value as a shell word; one holding a control character (a hand-edited
 * file may) as a JSON string instead, so the listing neither fails nor
 * sends raw escape sequences to the operator's terminal.
 */
function shown(value: string): string {
  return escaped(value) ?? shellQuote(value);
}

/** A value holding a control character, escaped as a JSON string; undefined when it holds none. */
function escaped(value: string): string | undefined {
  return CONTROL_CHARACTER.test(value) ? JSON.stringify(value) : undefined;
}

function checkCustomName(name: string): void {
  if (!BLOCK_ID.test(name)) {
    throw new UsageError(`invalid channel name ${JSON.stringify(name)}`, "use lowercase letters, digits, '-' and '_', starting with a letter or digit");
  }
  if (findBridge(name)) {
    throw new UsageError(`channel '${name}' belongs to the ${name} bridge`, `manage it with bridgectl install/upgrade/uninstall --bridge ${name}`);
  }
}

function parseEnv(entries: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`--env ${JSON.stringify(entry)}: expected NAME=VALUE with a shell-style variable name`);
    if (out.some(([k]) => k === key)) throw new UsageError(`--env ${key} given twice`);
    out.push([key, entry.slice(eq + 1)]);
  }
  return out;
}

const reloadPhpFpm = {
  reload: { type: 'boolean', default: true, describe: 'On the live host, reload PHP-FPM after writing (OPcache); --no-reload prints what to run' },
} as const;

const channelSet: CommandSpec = {
  command: 'set <name>',
  describe: 'Add or replace a custom channel (args starting with - need --arg=-x)',
  positionals: { name: { type: 'string' } },
  options: [
    {
      options: {
        command: { type: 'string', demandOption: 'name the executable with --command', describe: 'Absolute path of the executable', requiresArg: true },
        arg: { type: 'string', array: true, default: [], describe: 'Argument, repeatable; {recipient} and {message} are substituted' },
        env: { type: 'string', array: true, default: [], describe: 'K=V pinned for the child, repeatable' },
        detach: { type: 'boolean', default: true, describe: 'Run detached; --no-detach waits for the exit status' },
        timeout: seconds('timeout', 'Seconds before the transport gives up', 600, true),
        ...reloadPhpFpm,
      },
    },
    allowMissingBinaryOption,
  ],
  writes: true,
  plan: (args, identity, host) =>
    planChannelSet(
      { ...identity, name: args.name ?? '', command: args.command ?? '', args: args.arg ?? [], env: args.env ?? [], detach: args.detach !== false, timeout: args.timeout ?? NaN },
      host,
    ),
};

const channelRemove: CommandSpec = {
  command: 'remove <name>',
  describe: 'Remove a custom channel',
  positionals: { name: { type: 'string' } },
  options: [{ options: reloadPhpFpm }],
  writes: true,
  plan: (args, identity, host) => planChannelRemove({ ...identity, name: args.name ?? '' }, host),
};

const channelList: CommandSpec = {
  command: 'list',
  describe: "List the channels registered in the site's channels file",
  options: [],
  // No root needed: the channels file is readable by the web user, who may list it.
  writes: false,
  run: ({ args, io, identity, host }) => {
    if (!args.quiet || args.json) io.stdout(formatChannelList(gather(host(), (facts) => listChannels(identity, facts)).value, args.json));
    return ExitCode.ok;
  },
};

export const channelCommand: CommandSpec = {
  command: 'channel',
  describe: 'Custom channels beside the bridge blocks: set, remove, list',
  options: [siteOption],
  subcommands: [channelSet, channelRemove, channelList],
  demandSubcommand: 'name a channel command: set, remove or list',
  examples: [
    ['$0 channel set notify --site /var/www/html --command /usr/local/bin/notify --arg {recipient} --arg {message}', 'register a custom CLI'],
    ['$0 channel list --site /var/www/html', 'every channel in the channels file'],
  ],
  writes: false,
};
