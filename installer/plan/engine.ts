/**
 * The steps every command shares after reading what is installed
 * (installed.ts): resolve each bridge's identity once, render its channel
 * block and service definitions from it, and turn the result into a plan.
 * Pure over Facts; nothing here writes.
 */
import { posix } from 'node:path';
import type { BridgeDefinition, ChannelContext, SecretSpec } from '../model/bridge.js';
import { formatMode } from '../lib/access.js';
import { renderChannelBody } from '../render/channel.js';
import { IdentityError, UsageError } from '../model/errors.js';
import type { Facts } from '../model/facts.js';
import { identityReads, resolveSite } from '../identity/identity.js';
import { resolveBridgeIdentity } from '../identity/bridge-identity.js';
import { type Adopted, type Identity, type IdentityFlags } from '../model/identity.js';
import type { BlockChange } from '../render/markers.js';
import { type DirectoryChange, type FileChange, type Plan } from '../model/plan.js';
import { fileChange, ownedFileChange } from './changes.js';
import { channelsChange, registersChannels, transportChange } from './site-files.js';
import { redactable } from '../identity/secrets.js';
import { planDispatch, refuseUnsafeHop, type DispatchPlan } from './sudo-hop.js';
import { inspectDispatch } from './hop-installed.js';
import { adopt, checked, inspectInstalled, lazyCandidateHomes, readChannelsFile, requireBridge, type ChannelsFileState, type InstalledBridge, type Survey } from './installed.js';
import { keptSettings, parseService, renderService, serviceFile, type InstalledService } from '../render/units.js';
import { type InitSystem, type ServiceSpec } from '../model/service.js';
import { resolveWebUser } from '../identity/web-user.js';
import type { WebUser } from '../model/web-user.js';
import { keepOperatorLines } from '../render/operator-lines.js';

/** systemd units and launchd plists: 0644 is what systemd expects (it warns on world-writable or executable units). */
export const SERVICE_FILE_MODE = 0o644;
/** A bridge's data dir holds its tokens and database: private to the service user. */
export const DATA_DIR_MODE = 0o700;

export interface RenderedBridge {
  bridge: BridgeDefinition;
  identity: Identity;
  block: BlockChange;
  files: FileChange[];
  directories: DirectoryChange[];
  /** Credential values seen (reports redact them). */
  secrets: string[];
  /** The sudo hop's files (written before the channels file, removed after it). */
  dispatch: DispatchPlan;
}

export interface RenderOptions {
  /** upgrade adds no service definitions a bridge did not have; install does. */
  action: 'install' | 'upgrade';
  /** false: plan no owners (render), so no web user is resolved for the token file's group. */
  owners?: false;
  /** The web user of this run, resolved once for every bridge's secret file (planBridges sets it). */
  webUser?: () => WebUser;
}

export function renderBridge(
  bridge: BridgeDefinition,
  flags: IdentityFlags,
  channels: ChannelsFileState,
  site: string,
  host: Facts,
  notes: string[],
  options: RenderOptions,
  installed: InstalledBridge = inspectInstalled(bridge, channels.parsed, host, lazyCandidateHomes(flags, host, channels.parsed)),
): RenderedBridge {
  const adopted = adopt(bridge, installed, notes);
  if (options.action === 'upgrade' && adopted.init === undefined) adopted.init = 'none';
  const resolved = resolveBridgeIdentity(bridge, flags, adopted, site, host, installed.blockText);
  const identity = resolved.identity;
  notes.push(...resolved.notes.identity);
  // Units are per host, not per site: installing a bridge for a second site takes its service over.
  for (const [path, service] of installed.services) {
    const served = service.parsed.workingDirectory;
    if (served !== undefined && served !== site) {
      notes.push(`${bridge.id}: ${path} served the site ${served}; it now serves ${site} (a bridge's services belong to one site per host)`);
    }
  }

  const files: FileChange[] = [];
  const directories: DirectoryChange[] = [];
  const context: ChannelContext = {};
  // Only root can chown: only then is a wrong owner on a file bridgectl owns a change (ownedFileChange).
  const enforceOwner = host.uid === 0;
  const secrets: string[] = [];
  const secret = resolved.secret;
  if (bridge.secret && secret) {
    notes.push(...secret.notes);
    secrets.push(...secret.seen, ...unitSecrets(installed, bridge.secret.env));
    if (secret.value === undefined) {
      const files = bridge.secret.adoptFrom(identity).map((f) => f.path);
      const where = [bridge.secret.flag, `env ${bridge.secret.env}`, ...files].join(', ');
      // Said as the commands that add one, so the note is a fix, not just a finding.
      const add = [
        `bridgectl upgrade --site ${site} ${bridge.secret.flag} TOKEN`,
        `${bridge.secret.env}=TOKEN bridgectl upgrade --site ${site}`,
        ...files.map((f) => `put ${bridge.secret?.env}=TOKEN in ${f} and run bridgectl upgrade --site ${site}`),
      ].join('; or ');
      notes.push(`${bridge.id}: no ${bridge.secret.label} (looked at ${where}); services written, no channel block. To add one: ${add}`);
    } else {
      files.push(
        options.owners === false
          ? { ...fileChange(bridge.secret.file.path, null, bridge.secret.file.render(secret.value), SECRET_FILE_MODE), secret: true }
          : secretFileChange(bridge.secret, secret.value, options.webUser?.() ?? resolveWebUser(flags.webUser, host), host, notes, directories, enforceOwner),
      );
      context.secretFile = bridge.secret.file.path;
    }
  }
  notes.push(...resolved.notes.channelBinary);
  if (bridge.channelBinary !== undefined && (bridge.secret === undefined || context.secretFile !== undefined)) context.command = identity.binaries[bridge.channelBinary];
  // Dispatch mode (sudo-hop.ts): in sudo mode the channel runs the hop's wrapper.
  const dispatch = planDispatch({
    bridge,
    identity,
    spec: bridge.channel(identity, context),
    installed: installed.dispatch ?? inspectDispatch(bridge, undefined, host),
    flags: flags.dispatch ?? {},
    host,
    notes,
    action: options.action,
    enforceOwner,
  });
  const spec = dispatch.spec;
  const block: BlockChange = { id: bridge.id, body: spec ? renderChannelBody(spec) : null };

  const init = identity.init;
  if (init !== 'none') {
    for (const service of bridge.services(identity)) {
      const path = serviceFile(init, service, identity.home);
      const current = installed.services.get(path);
      const text = current?.text ?? host.readText(path);
      const parsed = checked(path, () => withOperatorLines(init, service, path, text, current?.parsed ?? (text === undefined ? undefined : parseService(init, text)), notes));
      const managed = (init === 'systemd' ? service.systemdEnv : service.launchdEnv).map(([k]) => k);
      const after = checked(path, () => renderService(init, service, keptSettings(parsed, managed)));
      const currentMode = current?.mode ?? (text === undefined ? undefined : host.stat(path)?.mode);
      const change = fileChange(path, text ?? null, after, serviceFileMode(currentMode), currentMode);
      if (change.mode !== SERVICE_FILE_MODE && change.status !== 'unchanged') {
        const holds = bridge.secret && after.includes(bridge.secret.env) ? `; it holds ${bridge.secret.env}` : '';
        notes.push(`${path}: kept its mode ${formatMode(change.mode)} (bridgectl never widens the mode of a unit or plist it rewrites${holds})`);
      }
      files.push(change);
    }
  }
  // Definitions left under another init system (e.g. --init switched) are removed.
  const rendered = new Set(files.map((f) => f.path));
  for (const [path, current] of installed.services) {
    if (!rendered.has(path)) files.push(fileChange(path, current.text, null, SERVICE_FILE_MODE, current.mode));
  }

  directories.push(...dispatch.directories);
  // Install creates the data dir; so does an upgrade that moves the bridge to a new user, home or data dir
  // (--service-user NEW): else the bridge would start without one. A flagless upgrade leaves it as it is.
  if (options.action === 'install' || movesIdentity(adopted, identity)) directories.push(...missingDirectories(identity.dataDir, identity, host));
  return { bridge, identity, block, files, directories, secrets, dispatch };
}

/**
 * The mode a rewritten unit or plist gets: 0644, but never wider than it
 * is (#17 item 3). An operator's 0600 unit may hold a secret that upgrade
 * keeps (Environment=TELEGRAM_BOT_TOKEN=…): widening it would publish it.
 * systemd and launchd need only the owner to read it, so the owner keeps
 * read and write; bits beyond 0644 (group or world write) are dropped.
 */
export function serviceFileMode(currentMode: number | undefined): number {
  return currentMode === undefined ? SERVICE_FILE_MODE : (currentMode & SERVICE_FILE_MODE) | 0o600;
}

/** Values of the secret's variable in installed units (the bash installer put the token in plists): redacted too. */
function unitSecrets(installed: InstalledBridge, env: string): string[] {
  return redactable([...installed.services.values()].flatMap((s) => s.parsed.env.filter(([k]) => k === env).map(([, v]) => v)));
}

/**
 * The installed definition, carrying the operator's own lines (Nice=,
 * LimitNOFILE=, a plist key…) so that keptSettings keeps them, and a note
 * naming them when the file is rewritten (operator-lines.ts, #17 item 7).
 */
function withOperatorLines(
  init: Exclude<InitSystem, 'none'>,
  service: ServiceSpec,
  path: string,
  text: string | undefined,
  parsed: InstalledService | undefined,
  notes: string[],
): InstalledService | undefined {
  if (parsed === undefined || text === undefined) return parsed;
  const managed = (init === 'systemd' ? service.systemdEnv : service.launchdEnv).map(([k]) => k);
  const kept = keptSettings(parsed, managed);
  const result = keepOperatorLines(init, path, text, (lines) => renderService(init, service, lines ? { ...kept, operator: lines } : kept));
  notes.push(...result.notes);
  return result.lines ? { ...parsed, operator: result.lines } : parsed;
}

/** Mode of the secret file: root writes it, the web user's group reads it, nobody else. */
export const SECRET_FILE_MODE = 0o640;
/** Its directory must be traversable by the web user whatever root's umask. */
const SECRET_DIR_MODE = 0o755;

function secretFileChange(
  spec: SecretSpec,
  value: string,
  web: WebUser,
  host: Facts,
  notes: string[],
  directories: DirectoryChange[],
  enforceOwner: boolean,
): FileChange {
  const source =
    web.source === 'flag' ? 'from --web-user' : web.source === 'env' ? 'from env WEB_USER' : web.source === 'php-fpm' ? `from ${web.pool ?? 'a PHP-FPM pool'}` : 'the default';
  const others = `PHP-FPM pools also run as ${web.others.join(', ')}; using ${web.name} (${source}): pass --web-user to choose`;
  if (web.others.length && !notes.includes(others)) notes.push(others);
  const entry = host.user(web.name);
  if (!entry) {
    throw new IdentityError(
      `web user '${web.name}' (${source}) does not exist: ${spec.file.path} must be readable by its group`,
      'pass --web-user with the user PHP-FPM runs as',
    );
  }
  const path = spec.file.path;
  const before = host.readText(path) ?? null;
  const facts = host.stat(path);
  const change = ownedFileChange(path, before, spec.file.render(value), SECRET_FILE_MODE, facts, { uid: 0, gid: entry.gid }, enforceOwner);
  if (change.status !== 'unchanged') {
    notes.push(`${path}: mode ${formatMode(SECRET_FILE_MODE)}, owner root, group ${host.groupName(entry.gid) ?? entry.gid} (web user ${web.name}, ${source})`);
  }
  const dir = posix.dirname(path);
  if (host.stat(dir) === undefined) directories.push({ path: dir, uid: 0, gid: 0, mode: SECRET_DIR_MODE });
  return { ...change, secret: true };
}

/** Whether the resolved identity leaves what is installed: another service user, home or data dir. */
function movesIdentity(adopted: Adopted, identity: Identity): boolean {
  const differs = (was: string | undefined, now: string): boolean => was !== undefined && was !== now;
  return differs(adopted.user, identity.serviceUser) || differs(adopted.home, identity.home) || differs(adopted.dataDir, identity.dataDir);
}

/**
 * The data dir and any missing directory between the home and it (telegram's
 * ~/.config), owned by the service user: created by root, they would
 * otherwise be root's and the bridge could not write its own config.
 */
function missingDirectories(dataDir: string, identity: Identity, host: Facts): DirectoryChange[] {
  const out: DirectoryChange[] = [];
  const underHome = (dir: string): boolean => dir.startsWith(`${identity.home}/`);
  for (let dir = dataDir; (dir === dataDir || underHome(dir)) && host.stat(dir) === undefined; dir = posix.dirname(dir)) {
    out.unshift({ path: dir, uid: identity.uid, gid: identity.gid, mode: DATA_DIR_MODE });
  }
  return out;
}

/** Install or upgrade: render the bridges and assemble one plan. */
export function planBridges(
  ids: readonly string[],
  flags: IdentityFlags,
  host: Facts,
  options: RenderOptions,
  site = resolveSite(flags, host),
  surveyed?: Survey,
): Plan {
  const definitions = [...new Set(ids)].map(requireBridge);
  checkPerBridgeFlags(definitions, flags);
  const channels = surveyed?.channels ?? readChannelsFile(site, host);
  const homes = lazyCandidateHomes(flags, host, channels.parsed);
  const notes: string[] = [];
  // Every secret file's group is the same web user's: resolved (its PHP-FPM pools read) once, however many bridges keep a secret.
  let webUser: WebUser | undefined;
  const once = { ...options, webUser: () => (webUser ??= resolveWebUser(flags.webUser, host)) };
  const installed = definitions.map((bridge) => surveyed?.installed.get(bridge.id) ?? inspectInstalled(bridge, channels.parsed, host, homes));
  // Every bridge's home and secret files in one gather round, not a round per bridge.
  host.need(definitions.flatMap((bridge, i) => identityReads(bridge, flags, adopt(bridge, installed[i] as InstalledBridge, []), host)));
  const rendered = definitions.map((bridge, i) => renderBridge(bridge, flags, channels, site, host, notes, once, installed[i]));
  // A sudo hop someone other than root could change is refused before anything is written (doctor fails it instead).
  if (options.owners !== false) for (const r of rendered) refuseUnsafeHop(r.dispatch);
  const channelsEntry = channelsChange(channels, rendered.map((r) => r.block));
  // Files a channel points at (the sudo hop's, a credential file) go in before
  // the channel points at them, and out after it no longer does: a dispatch
  // in between never finds its wrapper or its token file missing.
  const pointedAt = rendered.flatMap((r) => [...r.dispatch.files, ...r.files.filter((f) => f.secret)]);
  return {
    changes: [
      ...pointedAt.filter((c) => c.after !== null),
      channelsEntry,
      transportChange(site, host, registersChannels(channelsEntry)),
      ...rendered.flatMap((r) => r.files.filter((f) => !f.secret)),
      ...pointedAt.filter((c) => c.after === null),
    ],
    // Bridges may share a directory (two secret files in /etc/bridgectl): made once.
    directories: rendered.flatMap((r) => r.directories).filter((d, i, all) => all.findIndex((o) => o.path === d.path) === i),
    identities: Object.fromEntries(rendered.map((r) => [r.bridge.id, r.identity])),
    notes,
    secrets: [...new Set(rendered.flatMap((r) => r.secrets))],
  };
}

/**
 * Flags that name one bridge's value must not leak into the others of a
 * multi-bridge run: `--data-dir` and a bare `--binary PATH` need exactly one
 * bridge, and `--binary NAME=PATH` must name an executable some bridge runs.
 */
function checkPerBridgeFlags(definitions: readonly BridgeDefinition[], flags: IdentityFlags): void {
  const ids = definitions.map((b) => b.id).join(', ');
  if (definitions.length > 1 && flags.dataDir !== undefined) {
    const envs = definitions.flatMap((b) => (b.dataDir.env ? [b.dataDir.env] : [])).join(', ');
    throw new UsageError(`--data-dir names one bridge's data dir, and this run covers ${ids}`, `set ${envs} instead, or run once per bridge`);
  }
  if (definitions.length > 1 && flags.binary !== undefined) {
    throw new UsageError(`--binary PATH names one bridge's CLI, and this run covers ${ids}`, 'name the executable: --binary kimaki=/path/to/kimaki');
  }
  const known = new Set(definitions.flatMap((b) => [b.binaryName, ...(b.serviceBinaries ?? []), ...(b.channelBinary ? [b.channelBinary] : [])]));
  for (const name of Object.keys(flags.binaries ?? {})) {
    if (!known.has(name)) throw new UsageError(`--binary ${name}=…: no bridge in this run (${ids}) runs an executable named '${name}'`);
  }
}
