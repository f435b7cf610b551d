/**
 * The `sudo` dispatch mode, planned: when the web user cannot write the
 * service user's home, the channel runs a wrapper that hops to the service
 * user through sudo, with a grant narrowed to one argv shape and the message
 * on stdin (docs/dispatch-modes.md).
 *
 * Per bridge, three root-owned files, ordinary entries of the plan:
 *   target   /usr/local/lib/bridgectl/<id>-dispatch-target  0755  runs as the service user
 *   wrapper  /usr/local/bin/bridgectl-<id>-dispatch         0755  the channel's command
 *   grant    /etc/sudoers.d/bridgectl-<id>                  0440  validated by visudo -cf before rename
 *
 * Their text is render/sudo-hop.ts's; what is installed is read back in
 * hop-installed.ts. Here: the mode, the grant's users and form, the CLI's
 * PATH, owners and modes. A hop someone other than root could change (the
 * CLI it runs, a directory on the way to it or above these files) is
 * refused (hop-owners.ts).
 *
 * A bridge opts in with a `sudoHop` descriptor (data only). Pure over Facts:
 * the live sudo's version (which picks the grant's form) is one of them.
 */
import type { BridgeDefinition } from '../model/bridge.js';
import { binDir, searchPath, SYSTEM_PATH } from '../../bridges/paths.js';
import type { ChannelSpec } from '../model/channel.js';
import { IdentityError, UsageError, UserError } from '../model/errors.js';
import type { HopPaths } from '../model/sudo.js';
import type { DispatchFlags, DispatchMode, GrantForm } from '../model/dispatch.js';
import { describeUnsafe, unsafeFix, unsafeHopPaths, type HopOwnersInput, type UnsafePath } from './hop-owners.js';
import { ownGrantForm, type InstalledDispatch, type InstalledHopFile } from './hop-installed.js';
import { resolveWebUser } from '../identity/web-user.js';
import type { Facts } from '../model/facts.js';
import type { Identity } from '../model/identity.js';
import { HOP_LIB_DIR, hopPaths } from '../lib/paths.js';
import { type DirectoryChange, type FileChange } from '../model/plan.js';
import { fileChange, ownedFileChange } from './changes.js';
import { onlyOwnersCanWrite } from '../lib/access.js';
import { supportsSudoersRegex } from '../lib/sudo-version.js';
import { renderHop, SUDOERS_NAME } from '../render/sudo-hop.js';

export const DISPATCH_MODES: readonly DispatchMode[] = ['direct', 'sudo'];

export const HOP_EXEC_MODE = 0o755;
export const SUDOERS_MODE = 0o440;
const ROOT = { uid: 0, gid: 0 } as const;

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
