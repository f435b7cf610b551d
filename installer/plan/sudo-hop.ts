/**
 * The `sudo` dispatch mode: when the web user cannot write the service
 * user's home, the channel runs a wrapper that hops to the service user
 * through sudo, with a grant narrowed to one argv shape and the message on
 * stdin (docs/dispatch-modes.md).
 *
 * Per bridge, three root-owned files, ordinary entries of the plan:
 *   target   /usr/local/lib/bridgectl/<id>-dispatch-target  0755  runs as the service user
 *   wrapper  /usr/local/bin/bridgectl-<id>-dispatch         0755  the channel's command
 *   grant    /etc/sudoers.d/bridgectl-<id>                  0440  validated by visudo -cf before rename
 *
 * A hop someone other than root could change (the CLI it runs, a directory
 * on the way to it or above these files) is refused (hop-owners.ts).
 *
 * A bridge opts in with a `sudoHop` descriptor (data only). Pure over Facts:
 * the live sudo's version (which picks the grant's form) is one of them.
 */
import path from 'node:path';
import type { BridgeDefinition } from '../model/bridge.js';
import { binDir, searchPath, SYSTEM_PATH } from '../../bridges/paths.js';
import type { ChannelSpec } from '../model/channel.js';
import { IdentityError, RenderError, UsageError, UserError } from '../model/errors.js';
import type { HopPaths, SudoHopSpec } from '../model/sudo.js';
import type { DispatchFlags, DispatchMode, GrantForm } from '../model/dispatch.js';
import { describeUnsafe, unsafeFix, unsafeHopPaths, type HopOwnersInput, type UnsafePath } from './hop-owners.js';
import { resolveWebUser } from '../identity/web-user.js';
import type { Facts, PathFacts } from '../model/facts.js';
import type { Identity } from '../model/identity.js';
import { BLOCK_ID, HOP_LIB_DIR, hopPaths } from '../lib/paths.js';
import { type DirectoryChange, type FileChange } from '../model/plan.js';
import { fileChange, ownedFileChange } from './changes.js';
import { onlyOwnersCanWrite } from '../lib/access.js';
import { shellWord } from '../lib/shell.js';
import { supportsSudoersRegex } from '../lib/sudo-version.js';
import { renderTemplate } from '../render/templates.js';

/** The CLI argv a descriptor gives for one identity. */
export function hopCli(hop: SudoHopSpec, identity: Identity): readonly string[] {
  return typeof hop.cli === 'function' ? hop.cli(identity) : hop.cli;
}

export const DISPATCH_MODES: readonly DispatchMode[] = ['direct', 'sudo'];

/** The message limit the target enforces on stdin. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const HOP_EXEC_MODE = 0o755;
export const SUDOERS_MODE = 0o440;
const ROOT = { uid: 0, gid: 0 } as const;

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

const SUDOERS_NAME = /^[a-z_][a-z0-9_-]*\$?$/i;
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
function renderSudoers(bridge: BridgeDefinition, hop: SudoHopSpec, serviceUser: string, webUsers: readonly string[], form: GrantForm): string {
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

/**
 * The form of the installed grant, when bridgectl wrote it: its text is
 * byte for byte one of bridgectl's renderings for the users and run-as user
 * it names. A grant edited by hand (`<target> *`) says nothing about which
 * form this sudo reads, so it is undefined then.
 */
export function ownGrantForm(bridge: BridgeDefinition, hop: SudoHopSpec, installed: InstalledDispatch): GrantForm | undefined {
  const text = installed.files.get(hopPaths(bridge.id).sudoers)?.text;
  if (text === undefined || installed.form === undefined || installed.webUsers === undefined || installed.serviceUser === undefined) return undefined;
  const { webUsers, serviceUser } = installed;
  if (![serviceUser, ...webUsers].every((u) => SUDOERS_NAME.test(u) && u !== 'ALL')) return undefined;
  return (['regex', 'wildcard'] as const).find((form) => renderSudoers(bridge, hop, serviceUser, webUsers, form) === text);
}

// ---------------------------------------------------------------- reading back

export interface InstalledHopFile {
  text: string;
  facts: PathFacts | undefined;
}

/** What is on disk of one bridge's hop. */
export interface InstalledDispatch {
  /** direct unless the channel runs our wrapper or any hop file exists. */
  mode: DispatchMode;
  /** Whether anything says how this bridge dispatches (a block or a hop file). */
  known: boolean;
  /** The hop files present, by server path. */
  files: Map<string, InstalledHopFile>;
  /** The real CLI, read from the installed target (the block's command is the wrapper). */
  binary?: string;
  webUsers?: string[];
  serviceUser?: string;
  form?: GrantForm;
}

export function inspectDispatch(bridge: BridgeDefinition, block: ChannelSpec | undefined, host: Facts): InstalledDispatch {
  const installed: InstalledDispatch = { mode: 'direct', known: block !== undefined, files: new Map() };
  if (!BLOCK_ID.test(bridge.id)) return installed;
  const paths = hopPaths(bridge.id);
  for (const p of [paths.sudoers, paths.target, paths.wrapper]) {
    const text = host.readText(p);
    if (text !== undefined) installed.files.set(p, { text, facts: host.lstat(p) });
  }
  const usesWrapper = block?.command === paths.wrapper;
  if (!usesWrapper && installed.files.size === 0) return installed;
  installed.mode = 'sudo';
  installed.known = true;

  const targetText = installed.files.get(paths.target)?.text;
  const cli = targetText === undefined ? undefined : /^CLI=('(?:[^']|'\\'')*')$/m.exec(targetText)?.[1];
  if (cli !== undefined) installed.binary = parseShellQuoted(cli);
  const grant = parseGrant(installed.files.get(paths.sudoers)?.text, paths.target);
  if (grant) Object.assign(installed, grant);
  return installed;
}

/** Read back a word as shellQuote renders it. */
export function parseShellQuoted(word: string): string | undefined {
  if (!/^'(?:[^']|'\\'')*'$/.test(word)) return undefined;
  return word.slice(1, -1).replace(/'\\''/g, "'");
}

/**
 * The users, run-as user and form of an installed grant. The users come
 * from the first rule line whatever its command, so a hand-widened grant
 * (`… NOPASSWD: ALL`) is put back for the same users; the form only from a
 * rule for our target.
 */
export function parseGrant(text: string | undefined, target: string): Pick<InstalledDispatch, 'webUsers' | 'serviceUser' | 'form'> | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const m = /^([^#\s][^=]*?)\s+ALL\s*=\s*\(([^)]+)\)\s*(?:NOPASSWD:\s*)?(.*)$/.exec(line);
    if (!m || m[1]?.startsWith('Defaults')) continue;
    const command = /^(\S+) (.*)$/.exec(m[3] ?? '');
    return {
      webUsers: (m[1] ?? '').split(/\s*,\s*/).filter(Boolean),
      serviceUser: (m[2] ?? '').trim(),
      ...(command && command[1] === target ? { form: (command[2] ?? '').startsWith('^') ? 'regex' : 'wildcard' } : {}),
    } as Pick<InstalledDispatch, 'webUsers' | 'serviceUser' | 'form'>;
  }
  return undefined;
}

// ---------------------------------------------------------------- planning

export interface DispatchPlanInput {
  bridge: BridgeDefinition;
  identity: Identity;
  /** The channel as direct mode registers it, or null when the bridge registers none. */
  spec: ChannelSpec | null;
  installed: InstalledDispatch;
  flags: DispatchFlags;
  host: Facts;
  notes: string[];
  action: 'install' | 'upgrade';
  /** Whether bridgectl can chown (runs as root): only then is a wrong owner a change. */
  enforceOwner?: boolean;
}

/** What doctor's probes need to know about a planned hop. */
export interface HopFacts {
  bridge: string;
  paths: HopPaths;
  serviceUser: string;
  /** The user the CLI runs as, by uid (may also write the CLI and its directories). */
  serviceUid: number;
  /** The CLI the target runs, and its name. */
  cli: string;
  binaryName: string;
  webUsers: string[];
  form: GrantForm;
  subcommand: string;
  sample: string;
}

export interface DispatchPlan {
  /** The channel to register: the wrapper in sudo mode. */
  spec: ChannelSpec | null;
  /** The hop files to write, or installed ones to remove. Applied before the channels file. */
  files: FileChange[];
  directories: DirectoryChange[];
  hop?: HopFacts;
  /** Paths someone other than root could write to change what the hop runs (hop-owners.ts): install and upgrade refuse, doctor fails. */
  unsafe: UnsafePath[];
}

export function planDispatch(input: DispatchPlanInput): DispatchPlan {
  const { bridge, identity, installed, flags, host, notes } = input;
  let mode: DispatchMode = flags.dispatch ?? installed.mode;
  if (mode === 'sudo' && !bridge.sudoHop) {
    // install takes a mixed set as upgrade does (#16 item 8): the bridge stays direct, and says so.
    notes.push(`${bridge.id}: has no sudo dispatch mode; it stays direct`);
    mode = 'direct';
  }
  if (mode === 'sudo' && input.spec === null) mode = 'direct';
  if (installed.known && mode !== installed.mode) {
    notes.push(
      mode === 'sudo'
        ? `${bridge.id}: dispatch changes from direct to sudo: the channel now runs ${hopPaths(bridge.id).wrapper}`
        : `${bridge.id}: dispatch changes from sudo to direct: the wrapper, target helper and sudoers grant are removed`,
    );
  }
  if (mode === 'direct' || input.spec === null || !bridge.sudoHop) {
    const removals = [...installed.files].map(([p, f]) => fileChange(p, f.text, null, HOP_EXEC_MODE, f.facts?.mode));
    return { spec: input.spec, files: removals, directories: [], unsafe: [] };
  }

  const hop = bridge.sudoHop;
  const webUsers = resolveWebUsers(bridge, identity, installed, flags, host, notes);
  const ownForm = ownGrantForm(bridge, hop, installed);
  const form = resolveForm(bridge, ownForm, flags, host, notes);
  const grantPath = hopPaths(bridge.id).sudoers;
  if (installed.files.has(grantPath) && ownForm === undefined) {
    notes.push(`${bridge.id}: ${grantPath} is not a grant bridgectl wrote (edited by hand, or by another version): it is replaced with bridgectl's own, in the ${form} form`);
  }
  if (identity.uid === 0) notes.push(`${bridge.id}: the sudo hop runs ${bridge.binaryName} as root for ${webUsers.join(', ')}`);
  const cliPath = dispatchPath(bridge, identity, host, notes);
  const rendered = renderHop({ bridge, hop, identity, channel: input.spec, webUsers, form, cliPath });
  const { paths } = rendered;

  const files: FileChange[] = [
    hopFile(paths.sudoers, rendered.sudoers, SUDOERS_MODE, installed, input.enforceOwner ?? false, host, 'sudoers'),
    hopFile(paths.target, rendered.target, HOP_EXEC_MODE, installed, input.enforceOwner ?? false, host),
    hopFile(paths.wrapper, rendered.wrapper, HOP_EXEC_MODE, installed, input.enforceOwner ?? false, host),
  ];
  const directories: DirectoryChange[] = [];
  if (host.stat(HOP_LIB_DIR) === undefined) directories.push({ path: HOP_LIB_DIR, ...ROOT, mode: 0o755 });
  const facts: HopFacts = {
    bridge: bridge.id,
    paths,
    serviceUser: identity.serviceUser,
    serviceUid: identity.uid,
    cli: identity.binary,
    binaryName: bridge.binaryName,
    webUsers,
    form,
    subcommand: hop.subcommand,
    sample: hop.recipient.sample,
  };
  return { spec: { ...input.spec, command: paths.wrapper }, files, directories, hop: facts, unsafe: unsafeHopPaths(host, hopOwnersInput(facts)) };
}

/** What hop-owners.ts checks, from a planned hop. */
export function hopOwnersInput(hop: HopFacts): HopOwnersInput {
  return { bridgeId: hop.bridge, binaryName: hop.binaryName, cli: hop.cli, serviceUser: hop.serviceUser, serviceUid: hop.serviceUid, paths: hop.paths };
}

/**
 * Refuse a sudo-mode plan whose hop someone other than root could change
 * (install and upgrade; doctor reports the same list as failed checks).
 */
export function refuseUnsafeHop(plan: DispatchPlan): void {
  if (!plan.hop || plan.unsafe.length === 0) return;
  throw new UserError(`${plan.hop.bridge}: refusing the sudo hop: ${describeUnsafe(plan.unsafe)}`, unsafeFix(plan.unsafe, hopOwnersInput(plan.hop)));
}

/** Removal of whatever hop files are installed (uninstall). */
export function removeDispatch(installed: InstalledDispatch): FileChange[] {
  return [...installed.files].map(([p, f]) => fileChange(p, f.text, null, HOP_EXEC_MODE, f.facts?.mode));
}

function hopFile(
  serverPath: string,
  text: string,
  mode: number,
  installed: InstalledDispatch,
  enforceOwner: boolean,
  host: Facts,
  validate?: 'sudoers',
): FileChange {
  const current = installed.files.get(serverPath) ?? readHopFile(serverPath, host);
  return {
    ...ownedFileChange(serverPath, current?.text ?? null, text, mode, current?.facts, ROOT, enforceOwner),
    ...(validate ? { validate } : {}),
  };
}

function readHopFile(serverPath: string, host: Facts): InstalledHopFile | undefined {
  const text = host.readText(serverPath);
  return text === undefined ? undefined : { text, facts: host.lstat(serverPath) };
}

function resolveWebUsers(
  bridge: BridgeDefinition,
  identity: Identity,
  installed: InstalledDispatch,
  flags: DispatchFlags,
  host: Facts,
  notes: string[],
): string[] {
  // After --web-user and the installed grant's users: web-user.ts's rule, env WEB_USER, then every
  // PHP-FPM pool user (a dispatch may come from any pool), else www-data.
  const web = resolveWebUser(undefined, host);
  const grantPath = hopPaths(bridge.id).sudoers;
  if (!flags.webUsers && web.source !== 'env' && installed.files.has(grantPath) && !installed.webUsers) {
    // Never guess who a security grant is for.
    throw new UsageError(`cannot read which users ${grantPath} grants (it is not in bridgectl's format)`, 'pass --web-user with the user PHP runs as (repeatable)');
  }
  const resolved = web.source === 'env' ? [web.name] : [web.name, ...web.others];
  const users = [...new Set(flags.webUsers ?? installed.webUsers ?? resolved)];
  if (flags.webUsers && installed.webUsers && users.join(',') !== installed.webUsers.join(',')) {
    notes.push(`${bridge.id}: the sudo grant's users change from ${installed.webUsers.join(', ')} to ${users.join(', ')}`);
  }
  for (const name of users) {
    if (!SUDOERS_NAME.test(name)) throw new UsageError(`--web-user ${JSON.stringify(name)} is not a user name`);
    if (!host.user(name)) {
      throw new IdentityError(
        `web user '${name}' does not exist in ${host.root === '/' ? 'the passwd database' : `${host.root}/etc/passwd`}`,
        'pass --web-user with the user PHP runs as (repeatable; env WEB_USER)',
      );
    }
    if (name === identity.serviceUser) {
      throw new UsageError(
        `the web user ${name} is the service user: it needs no sudo hop`,
        'pass --dispatch direct, or --web-user with the user PHP runs as',
      );
    }
  }
  return users;
}

function resolveForm(
  bridge: BridgeDefinition,
  /** The installed grant's form, only when bridgectl wrote that grant (ownGrantForm). */
  installedForm: GrantForm | undefined,
  flags: DispatchFlags,
  host: Facts,
  notes: string[],
): GrantForm {
  if (flags.sudoRegex !== undefined) {
    const form = flags.sudoRegex ? 'regex' : 'wildcard';
    if (installedForm !== undefined && installedForm !== form) notes.push(`${bridge.id}: the sudo grant changes from ${installedForm} to ${form} matching`);
    return form;
  }
  // The installed form is kept (upgrade never switches silently) unless the
  // live sudo cannot read it; a fresh grant, or one bridgectl did not write,
  // takes what the live sudo reads.
  const sudo = host.sudo();
  if (sudo.live) {
    const version = sudo.version;
    if (!version) {
      notes.push(`${bridge.id}: sudo is not installed: the wrapper exits 69 until it is (apt-get install sudo)`);
    } else if (!supportsSudoersRegex(version)) {
      if (installedForm === 'regex') notes.push(`${bridge.id}: the sudo grant changes from regex to wildcard matching: sudo ${version.text} predates sudoers regular expressions (1.9.10)`);
      return 'wildcard';
    }
  }
  return installedForm ?? 'regex';
}

/** Root-owned directories only: the CLI's own directory joins SYSTEM_PATH when root owns it and only root can write it. */
function dispatchPath(bridge: BridgeDefinition, identity: Identity, host: Facts, notes: string[]): string {
  const dir = binDir(identity.binary);
  if (SYSTEM_PATH.includes(dir)) return searchPath(SYSTEM_PATH);
  const facts = host.stat(dir);
  if (facts && onlyOwnersCanWrite(facts, [0])) return searchPath([dir, ...SYSTEM_PATH]);
  notes.push(`${bridge.id}: ${dir} is not a root-owned directory, so the dispatch target leaves it off PATH (${bridge.binaryName} still runs by its full path)`);
  return searchPath(SYSTEM_PATH);
}
