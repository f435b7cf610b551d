/**
 * The sudo hop's three files as text (docs/dispatch-modes.md): the target
 * that runs the CLI as the service user, the wrapper the channel runs, and
 * the sudoers grant narrowed to one argv shape. Pure: identity and the
 * choices planning made (web users, grant form, the CLI's PATH) -> text;
 * what is installed and who owns it is plan/sudo-hop.ts's part.
 */
import path from 'node:path';
import type { BridgeDefinition } from '../model/bridge.js';
import type { ChannelSpec } from '../model/channel.js';
import { RenderError } from '../model/errors.js';
import type { HopPaths, SudoHopSpec } from '../model/sudo.js';
import type { GrantForm } from '../model/dispatch.js';
import type { Identity } from '../model/identity.js';
import { hopPaths } from '../lib/paths.js';
import { shellWord } from '../lib/shell.js';
import { renderTemplate } from './templates.js';

/** The CLI argv a descriptor gives for one identity. */
export function hopCli(hop: SudoHopSpec, identity: Identity): readonly string[] {
  return typeof hop.cli === 'function' ? hop.cli(identity) : hop.cli;
}

/** The message limit the target enforces on stdin. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

// ---------------------------------------------------------------- recipients

/** A bracket body made of ranges and `_` `.`, with an optional literal `-` last. */
const CHARSET = /^(?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9_.])+-?$/;

function checkSpec(bridge: BridgeDefinition, hop: SudoHopSpec, cli: readonly string[]): void {
  const fail = (what: string): never => {
    throw new RenderError(`bridge ${bridge.id}: sudoHop ${what}`);
  };
  if (!/^[a-z][a-z0-9-]*$/.test(hop.subcommand)) fail(`subcommand ${JSON.stringify(hop.subcommand)} is not a plain word`);
  for (const key of ['first', 'rest'] as const) {
    if (!CHARSET.test(hop.recipient[key])) fail(`recipient.${key} ${JSON.stringify(hop.recipient[key])} is not a plain character set`);
  }
  if (!recipientPattern(hop).test(hop.recipient.sample)) fail(`recipient.sample ${JSON.stringify(hop.recipient.sample)} does not match its own pattern`);
  const count = (token: string): number => cli.filter((a) => a.includes(token)).length;
  if (count('{recipient}') !== 1 || count('{message}') !== 1) fail('cli must use {recipient} and {message} once each');
}

export function recipientPattern(hop: SudoHopSpec): RegExp {
  return new RegExp(`^[${hop.recipient.first}][${hop.recipient.rest}]*$`);
}

/** The `case` pattern of refused recipients: empty, a bad first character, or a bad later one. */
function refusedCase(hop: SudoHopSpec): string {
  return `''|[!${hop.recipient.first}]*|?*[!${hop.recipient.rest}]*`;
}

/** What the grant allows after the target path. */
export function grantCommands(target: string, hop: SudoHopSpec, form: GrantForm): string {
  const { first, rest } = hop.recipient;
  if (form === 'regex') {
    const tail = first === rest ? `[${first}]+` : `[${first}][${rest}]*`;
    return `${target} ^${hop.subcommand} ${tail}$`;
  }
  // Arguments match as one string and `*` crosses spaces, so the grant alone
  // would admit `send 1 --more`; the negated entry refuses any character
  // after the first that is not in the set (a space included).
  return `${target} ${hop.subcommand} [${first}]*, !${target} ${hop.subcommand} ?*[!${rest}]*`;
}

// ---------------------------------------------------------------- rendering

export interface HopRenderInput {
  bridge: BridgeDefinition;
  hop: SudoHopSpec;
  identity: Identity;
  /** The channel as direct mode registers it: its args are the argv the wrapper accepts, its env what the target pins. */
  channel: ChannelSpec;
  webUsers: readonly string[];
  form: GrantForm;
  /** PATH the CLI gets: root-owned directories only. */
  cliPath: string;
}

export interface RenderedHop {
  paths: HopPaths;
  target: string;
  wrapper: string;
  sudoers: string;
}

/** A user name sudoers reads as one (planning checks --web-user and an installed grant's users with it too). */
export const SUDOERS_NAME = /^[a-z_][a-z0-9_-]*\$?$/i;
const SUDOERS_KEYWORDS = new Set(['ALL', 'Defaults', 'User_Alias', 'Runas_Alias', 'Host_Alias', 'Cmnd_Alias', 'Cmd_Alias']);
const SUDOERS_PATH = /^\/[A-Za-z0-9_./-]+$/;

export function renderHop(input: HopRenderInput): RenderedHop {
  const { bridge, hop, identity, channel } = input;
  const cli = hopCli(hop, identity);
  checkSpec(bridge, hop, cli);
  const paths = hopPaths(bridge.id);
  for (const user of [identity.serviceUser, ...input.webUsers]) {
    // 'ALL' is a sudoers keyword: as a user name it would grant everyone; 'Defaults' and the alias keywords start other kinds of line.
    if (!SUDOERS_NAME.test(user) || SUDOERS_KEYWORDS.has(user)) {
      throw new RenderError(`user name ${JSON.stringify(user)} cannot be written into a sudoers grant${SUDOERS_KEYWORDS.has(user) ? ' (it is a sudoers keyword)' : ''}`, 'pass --web-user / --service-user with the account PHP-FPM and the bridge really run as');
    }
  }
  for (const p of Object.values(paths)) {
    if (!SUDOERS_PATH.test(p)) throw new RenderError(`internal: unsafe hop path ${p}`);
  }

  // The wrapper accepts exactly the channel's argv: literals where the
  // channel has literals, the recipient and message where it has those.
  const literals: { param: string; value: string }[] = [];
  let recipientParam = '';
  let messageParam = '';
  channel.args.forEach((arg, i) => {
    const param = `\${${i + 1}}`;
    if (arg === '{recipient}') recipientParam = param;
    else if (arg === '{message}') messageParam = param;
    else if (/\{[a-z_]+\}/.test(arg)) throw new RenderError(`channel ${channel.name}: the sudo hop cannot carry the argument ${JSON.stringify(arg)}`);
    else literals.push({ param, value: arg });
  });
  if (recipientParam === '' || messageParam === '') {
    throw new RenderError(`channel ${channel.name}: the sudo hop needs {recipient} and {message} as whole arguments`);
  }
  const usage = channel.args.map((a) => (a === '{recipient}' ? '<recipient>' : a === '{message}' ? '<message>' : a)).join(' ');

  const env: [string, string][] = [...channel.env.filter(([k]) => k !== 'PATH'), ['PATH', input.cliPath]];
  for (const [key] of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new RenderError(`invalid environment variable name ${JSON.stringify(key)}`);
  }
  const common = {
    title: bridge.title,
    serviceUser: identity.serviceUser,
    subcommand: hop.subcommand,
    recipientWhat: hop.recipient.what,
    recipientRefused: refusedCase(hop),
  };
  const target = renderTemplate('sudo/target.sh.hbs', {
    ...common,
    name: path.posix.basename(paths.target),
    binary: identity.binary,
    dataDir: identity.dataDir,
    home: identity.home,
    maxBytes: MAX_MESSAGE_BYTES,
    envWords: env.map(([k, v]) => shellWord(`${k}=${v}`, {}, `environment ${k}`)).join(' '),
    cliArgs: cli.map((a) => shellWord(a, { recipient: 'recipient', message: 'message' })).join(' '),
  });
  const wrapper = renderTemplate('sudo/wrapper.sh.hbs', {
    ...common,
    name: path.posix.basename(paths.wrapper),
    bridgeId: bridge.id,
    target: paths.target,
    grant: paths.sudoers,
    usage,
    argc: channel.args.length,
    literals,
    recipientParam,
    messageParam,
  });
  const sudoers = renderSudoers(bridge, hop, identity.serviceUser, input.webUsers, input.form);
  return { paths, target, wrapper, sudoers };
}

/** The grant alone, as renderHop writes it (also to tell a grant bridgectl wrote from one it did not). */
export function renderSudoers(bridge: BridgeDefinition, hop: SudoHopSpec, serviceUser: string, webUsers: readonly string[], form: GrantForm): string {
  const { target } = hopPaths(bridge.id);
  const users = [...new Set(webUsers)];
  return renderTemplate('sudo/sudoers.hbs', {
    title: bridge.title,
    serviceUser,
    subcommand: hop.subcommand,
    target,
    users: users.join(', '),
    webUsersText: users.join(' and '),
    commands: grantCommands(target, hop, form),
  });
}
