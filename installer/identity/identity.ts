/**
 * The adopted service identity: which user runs the bridge, its home, its
 * data dir, the bridge binary and the site. Pure over a Facts: flags win, then
 * the environment names the bash installer used, then what is installed
 * (adoption), then defaults from passwd. Nothing is hard-coded: a root
 * install pins /root, a user install pins that user's home.
 */
import path from 'node:path';
import type { BridgeDefinition } from '../model/bridge.js';
import { canAccess, formatMode } from '../lib/access.js';
import { IdentityError, MissingFacts, UsageError, type FactItem } from '../model/errors.js';
import type { Adopted, IdentityFlags, Resolution } from '../model/identity.js';
import type { Facts, PasswdEntry } from '../model/facts.js';

/** Fixed, documented binary search path; `~` is the service user's home. */
export const BINARY_SEARCH_PATH = ['/usr/local/bin', '/usr/bin', '~/.npm-global/bin', '~/.bun/bin', '~/.local/bin'];
/** On macOS Homebrew's prefix comes first, as on its default PATH. */
const DARWIN_SEARCH_PATH = ['/opt/homebrew/bin', ...BINARY_SEARCH_PATH];

export { resolveSite } from './site.js';

const truthy = (v: string | undefined): boolean => v === 'true' || v === '1' || v === 'yes';

export function resolveIdentity(
  bridge: BridgeDefinition,
  flags: IdentityFlags,
  adopted: Adopted,
  site: string,
  host: Facts,
): Resolution {
  const notes: string[] = [];
  if (flags.serviceUser !== undefined && flags.runAsRoot) {
    throw new UsageError('--service-user and --run-as-root contradict each other', 'pass one of them');
  }

  const { user, named, home, dataDir } = locate(bridge, flags, adopted, host, notes);
  host.need(readsOf(bridge, home, dataDir));
  assertWritableHome(user, home, host);
  if (adopted.home !== undefined && adopted.home !== home) {
    notes.push(`${bridge.id}: HOME changes from the installed ${adopted.home} to ${home} (user ${user.name})`);
  } else if (!named && home !== path.posix.normalize(user.home)) {
    notes.push(`${bridge.id}: keeping the installed HOME ${home}, though passwd gives ${user.name} the home ${user.home}`);
  }
  if (adopted.dataDir !== undefined && adopted.dataDir !== dataDir) {
    notes.push(`${bridge.id}: data dir changes from the installed ${adopted.dataDir} to ${dataDir}`);
  }

  const binaries: Record<string, string> = {};
  for (const name of [bridge.binaryName, ...(bridge.serviceBinaries ?? [])]) {
    binaries[name] = resolveBinary(bridge, name, flags, adopted, home, host, notes);
  }
  const binary = binaries[bridge.binaryName] as string;

  const init = flags.init ?? adopted.init ?? (host.platform === 'darwin' ? 'launchd' : 'systemd');
  if (flags.init !== undefined && adopted.init !== undefined && flags.init !== adopted.init) {
    notes.push(`${bridge.id}: init system changes from the installed ${adopted.init} to ${flags.init}`);
  }

  return {
    identity: { serviceUser: user.name, uid: user.uid, gid: user.gid, home, dataDir: path.posix.normalize(dataDir), binary, binaries, site, init },
    notes,
  };
}

/** Who runs the bridge and where its files are, from flags, environment, what is installed and passwd: nothing stat'ed yet. */
function locate(bridge: BridgeDefinition, flags: IdentityFlags, adopted: Adopted, host: Facts, notes: string[]) {
  const { user, named } = resolveUser(bridge, flags, adopted, host, notes);
  // A named user brings its passwd home; an adopted one keeps the installed
  // HOME, so an upgrade with no flags reproduces exactly what is installed.
  const home = path.posix.normalize(named || adopted.home === undefined ? passwdHome(user, host) : adopted.home);
  const homeAdopted = adopted.home === home;
  const envName = bridge.dataDir.env;
  if (flags.dataDir !== undefined && envName === undefined) {
    throw new UsageError(`--data-dir does not apply to ${bridge.id}: it keeps its files in <home>/${bridge.dataDir.underHome}`);
  }
  const dataDir =
    flags.dataDir ??
    (envName === undefined ? undefined : nonEmpty(host.env[envName])) ??
    (homeAdopted ? adopted.dataDir : undefined) ??
    path.posix.join(home, bridge.dataDir.underHome);
  requireAbsolute(dataDir, `--data-dir (${envName})`);
  return { user, named, home, homeAdopted, dataDir };
}

/** What resolving a bridge's identity and secret reads beyond passwd: its home, and the secret's files under it. */
function readsOf(bridge: BridgeDefinition, home: string, dataDir: string): FactItem[] {
  const secretFiles = bridge.secret?.adoptFrom({ home, dataDir: path.posix.normalize(dataDir) }) ?? [];
  return [{ kind: 'stat', path: home }, ...secretFiles.map((f) => ({ kind: 'text' as const, path: f.path }))];
}

/**
 * The reads resolveIdentity will make for this bridge, for Facts.need: a
 * plan names every bridge's at once, so a gather reads them in one round
 * rather than a round per bridge (at 1,000 channel blocks a round is ~10
 * ms). None when the identity cannot be resolved: resolveIdentity then says why.
 */
export function identityReads(bridge: BridgeDefinition, flags: IdentityFlags, adopted: Adopted, host: Facts): FactItem[] {
  try {
    const { home, dataDir } = locate(bridge, flags, adopted, host, []);
    return readsOf(bridge, home, dataDir);
  } catch (err) {
    if (err instanceof MissingFacts) throw err;
    return [];
  }
}

function resolveUser(
  bridge: BridgeDefinition,
  flags: IdentityFlags,
  adopted: Adopted,
  host: Facts,
  notes: string[],
): { user: PasswdEntry; named: boolean } {
  const named =
    flags.serviceUser ??
    (flags.runAsRoot ? 'root' : undefined) ??
    nonEmpty(host.env.SERVICE_USER) ??
    (truthy(host.env.RUN_AS_ROOT) ? 'root' : undefined);
  if (named !== undefined && adopted.user !== undefined && named !== adopted.user) {
    notes.push(`${bridge.id}: service user changes from the installed ${adopted.user} to ${named}`);
  }
  const wanted = named ?? adopted.user;
  if (wanted !== undefined) {
    const entry = host.user(wanted);
    if (!entry) {
      throw new IdentityError(
        `service user '${wanted}' does not exist in ${host.root === '/' ? 'the passwd database' : `${host.root}/etc/passwd`}`,
        'create the user first, or pass --service-user with an existing one',
      );
    }
    return { user: entry, named: named !== undefined };
  }
  if (adopted.home !== undefined) {
    const owners = host.usersWithHome(adopted.home);
    if (owners.length === 1 && owners[0]) return { user: owners[0], named: false };
    const why = owners.length === 0 ? 'no user has that home' : `it is the home of ${owners.map((u) => u.name).join(', ')}`;
    notes.push(`${bridge.id}: installed HOME ${adopted.home} does not identify one user (${why})`);
    throw new IdentityError(
      `cannot adopt the installed ${bridge.id} identity: HOME ${adopted.home} does not identify one user (${why})`,
      'pass --service-user NAME (or --run-as-root) to say who runs the bridge',
    );
  }
  throw new IdentityError(
    `no service identity for ${bridge.id}: bridgectl needs to know which user runs the bridge`,
    'pass --service-user NAME, or --run-as-root (env: SERVICE_USER, RUN_AS_ROOT=true)',
  );
}

/** A passwd home is pinned as HOME and looked up on the server: only an absolute path can be either. */
function passwdHome(user: PasswdEntry, host: Facts): string {
  if (path.posix.isAbsolute(user.home)) return user.home;
  throw new IdentityError(
    `service user '${user.name}' has the home ${JSON.stringify(user.home)} in ${host.root === '/' ? 'the passwd database' : `${host.root}/etc/passwd`}, not an absolute path`,
    `give it an absolute home (usermod -d /home/${user.name} ${user.name}), or pass --service-user with another user`,
  );
}

function assertWritableHome(user: PasswdEntry, home: string, host: Facts): void {
  const facts = host.stat(home);
  if (!facts) {
    throw new IdentityError(
      `home ${home} of service user '${user.name}' does not exist`,
      `create it (install -d -o ${user.name} -m 0750 ${home}) or pass --service-user with a user whose home exists`,
    );
  }
  const who = { uid: user.uid, gids: host.groupIds(user) };
  if (!facts.isDirectory || !canAccess(who, facts, 'w') || !canAccess(who, facts, 'x')) {
    const owner = host.userByUid(facts.uid)?.name ?? String(facts.uid);
    const group = host.groupName(facts.gid) ?? String(facts.gid);
    throw new IdentityError(
      `home ${home} of service user '${user.name}' is not writable by it (owner ${owner}:${group}, mode ${formatMode(facts.mode)}${facts.isDirectory ? '' : `, a ${facts.kind}`})`,
      `pass --service-user with the user the bridge runs as (its home must be its own), or fix the home: chown ${user.name} ${home}`,
    );
  }
}

/**
 * One executable of a bridge: the flag, else what is installed, else the
 * first found on the search path. The bridge's own CLI takes `--binary
 * PATH`; any executable takes `--binary NAME=PATH`.
 */
export function resolveBinary(
  bridge: BridgeDefinition,
  name: string,
  flags: IdentityFlags,
  adopted: Adopted,
  home: string,
  host: Facts,
  notes: string[],
): string {
  const own = name === bridge.binaryName;
  const flag = (own ? flags.binary : undefined) ?? flags.binaries?.[name];
  const installed = adopted.binaries?.[name];
  const binary = flag ?? installed ?? findBinary(name, own, home, host);
  requireAbsolute(binary, own ? '--binary' : `--binary ${name}=`);
  if (flag !== undefined && flags.allowMissingBinary !== true) requireExecutable(binary, own ? '--binary' : `--binary ${name}=`, host);
  if (flag !== undefined && installed !== undefined && installed !== flag) {
    notes.push(`${bridge.id}: ${own ? 'binary' : name} changes from the installed ${installed} to ${flag}`);
  }
  return binary;
}

/** The flag's executable must be one on the server: a typo (nokimaki) is refused, not pinned into a unit that never starts. */
export function requireExecutable(binary: string, flag: string, host: Facts): void {
  const facts = host.stat(binary);
  if (facts?.kind === 'file' && (facts.mode & 0o111) !== 0) return;
  const what = facts === undefined ? 'does not exist' : facts.kind !== 'file' ? `is a ${facts.kind}, not an executable file` : `is not executable (mode ${formatMode(facts.mode)})`;
  throw new IdentityError(
    `${flag.endsWith('=') ? `${flag}${binary}` : `${flag} ${binary}`}: ${binary} ${what}${host.root === '/' ? '' : ` under --root ${host.root}`}`,
    `check the path (install the program first), or pass ${ALLOW_MISSING_BINARY} if it will be there before the bridge runs`,
  );
}

/** The one spelling of the override, for every message that suggests it. */
export const ALLOW_MISSING_BINARY = '--allow-missing-binary';

function findBinary(name: string, own: boolean, home: string, host: Facts): string {
  const search = host.platform === 'darwin' ? DARWIN_SEARCH_PATH : BINARY_SEARCH_PATH;
  const candidates = search.map((dir) => path.posix.join(dir.replace(/^~/, home), name));
  for (const candidate of candidates) {
    const facts = host.stat(candidate);
    if (facts?.kind === 'file' && (facts.mode & 0o111) !== 0) return candidate;
  }
  throw new IdentityError(
    `no executable '${name}' found in ${candidates.join(', ')}`,
    `install ${name}, or pass ${own ? `--binary /path/to/${name}` : `--binary ${name}=/path/to/${name}`}`,
  );
}

function requireAbsolute(value: string, flag: string): void {
  if (!path.posix.isAbsolute(value)) throw new UsageError(`${flag} must be an absolute path, got ${JSON.stringify(value)}`);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
