/**
 * "Will a dispatch from WP-cron work?", answered the way the web user meets
 * it. Pure: facts come through the Facts (stat bits, passwd, group, file
 * text) plus `php -l` results gathered by the command; the output is a list
 * of checks, each ok / warn / fail with a one-line fix.
 *
 * The failures it knows come from upstream's history (see
 * shared/design/dispatch-modes.md): a binary under /root (#198), HOME not
 * pinned so kimaki tries /var/www/.kimaki (#228, the seed), a pinned data dir
 * the web user cannot write (#240), kimaki's ./tmp under an unwritable
 * working directory (kimaki #159), and the unit and block disagreeing.
 *
 * A bridge installed in sudo dispatch mode (as the engine inspects it) is
 * checked along that path instead: the CLI runs as the service user, so
 * the web user's reach to HOME and the data dir does not matter; sudo, the
 * three hop files (against what bridgectl would write), visudo, the
 * service user's own data dir and, on the live host as root, the grant as
 * each web user do (sudo-probe.ts). Probes that need the live host are
 * reported as skipped: `ok` under a sandbox --root (it is not the server,
 * nothing there is wrong), `warn` on the live host (an unverified grant is
 * how upstream certified a stale one, #304).
 */
import path from 'node:path';
import { findBridge } from '../../bridges/index.js';
import type { BridgeDefinition, ChannelFacts } from '../model/bridge.js';
import { envValue, parseChannelBody } from '../render/channel.js';
import { type ChannelSpec } from '../model/channel.js';
import { renderBridge, type RenderedBridge } from '../plan/engine.js';
import { inspectInstalled, readChannelsFile, type InstalledBridge } from '../plan/installed.js';
import { MarkerError, UserError } from '../model/errors.js';
import type { Facts } from '../model/facts.js';
import type { Identity } from '../model/identity.js';
import { listBlocks } from '../render/markers.js';
import { parsePhpString } from '../lib/php.js';
import { channelsFile, transportFile } from '../lib/paths.js';
import { canAccess } from '../lib/access.js';
import { denial, describeFacts, dirWritable, explainDenial, realPath, shellQuote, whoIs, type Denial, type Who } from '../lib/reach.js';
import { dirGrant, isSystemDir, listSome, lockedEntries, searchGrants, systemDirsIn, treeGrant } from './grant.js';
import { hopPaths } from '../lib/paths.js';
import { probeGrant, probeHopCli, probeHopDirectories, probeHopFiles, probeSudoBinary, probeSudoVersion, probeVisudo, spawnRunner, type ProbeResult, type Runner } from './sudo-probe.js';
import { envOf } from '../render/units.js';
import type { WebUser } from '../model/web-user.js';
import type { Check } from '../model/doctor.js';

export type LintResult = { ok: true } | { ok: false; output: string };

export interface DoctorInput {
  host: Facts;
  site: string;
  webUser: WebUser;
  /** `php -l` per managed PHP file (server path); 'unavailable' when there is no php on PATH. */
  lint: ReadonlyMap<string, LintResult> | 'unavailable';
  /** Starts the sudo probes' processes (visudo; sudo and setpriv on the live host); tests replace it. */
  run?: Runner;
  /** Whether doctor runs as root (only then can it become each web user to try the grant). */
  isRoot?: boolean;
}

/** What doctor knows about a channel's CLI, by channel name. Unknown names are custom channels. */
/** Custom channels: nothing known, so an unpinned HOME only warns. */
const CUSTOM: ChannelFacts = { writesHome: 'maybe' };

export function diagnose(input: DoctorInput): Check[] {
  const { host, site, webUser } = input;
  const checks: Check[] = [];
  const entry = host.user(webUser.name);
  const who = entry ? whoIs(entry, host) : undefined;
  checks.push(webUserCheck(webUser, who, host));
  if (who) checks.push(webHomeCheck(who, host));

  const channels = channelsFile(site);
  const text = managedFile(checks, input, 'channels', channels, who, `bridgectl install --bridge <id> --site ${site}`);
  const transport = transportFile(site);
  if (host.stat(transport) === undefined) {
    checks.push({
      id: 'transport.exists',
      status: 'warn',
      message: `the CLI transport ${transport} is not installed: nothing in WordPress runs the channels`,
      fix: `install the wp-coding-agents CLI transport mu-plugin into ${path.posix.dirname(transport)}`,
    });
  } else {
    managedFile(checks, input, 'transport', transport, who, '');
  }
  if (text === undefined) return checks;

  let blocks: { id: string; body: string[] }[];
  try {
    blocks = listBlocks(text);
  } catch {
    return checks; // reported by channels.markers
  }
  if (blocks.length === 0) {
    checks.push({ id: 'channels.blocks', status: 'warn', message: `${channels} registers no channel`, fix: `bridgectl install --bridge <id> --site ${site}` });
  }
  for (const block of blocks) {
    const spec = parseChannelBody(block.body);
    if (!spec) {
      checks.push({
        id: `channel.${block.id}.block`,
        status: 'warn',
        message: `block bridge:${block.id} is not in the shape bridgectl renders; its channel was not checked`,
        fix: findBridge(block.id) ? `bridgectl upgrade --site ${site}` : `rewrite the block by hand in the shape bridgectl renders`,
      });
      continue;
    }
    checks.push(...channelChecks(spec, cwdOf(block.body), text, input, who));
  }
  return checks;
}

/** Exit status of a doctor run: 1 on any fail, else 0 (warnings do not fail it). */
export function doctorExitCode(checks: readonly Check[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

// ---------------------------------------------------------------- the web user

function webUserCheck(webUser: WebUser, who: Who | undefined, host: Facts): Check {
  const from =
    webUser.source === 'flag'
      ? 'from --web-user'
      : webUser.source === 'env'
        ? 'from env WEB_USER'
        : webUser.source === 'php-fpm'
          ? `from the PHP-FPM pool ${webUser.pool}`
          : 'the default: no PHP-FPM pool names one';
  if (!who) {
    return {
      id: 'web-user',
      status: 'fail',
      message: `dispatch user '${webUser.name}' (${from}) does not exist in ${host.root === '/' ? 'the passwd database' : `${host.root}/etc/passwd`}`,
      fix: 'pass --web-user with the user PHP-FPM runs WP-cron as',
    };
  }
  const groups = who.principal.gids.map((g) => host.groupName(g) ?? String(g));
  const others = webUser.others.length ? `; other pools run as ${webUser.others.join(', ')} (check them with --web-user)` : '';
  return {
    id: 'web-user',
    status: 'ok',
    message: `dispatching as ${who.name} (uid ${who.entry.uid}, groups ${[...new Set(groups)].join(',')}; ${from})${others}`,
  };
}

function webHomeCheck(who: Who, host: Facts): Check {
  const home = who.entry.home;
  const d = denial(host, who.principal, home, ['w', 'x']);
  if (!d) return { id: 'web-user.home', status: 'ok', message: `${who.name}'s own HOME ${home} is writable by it` };
  return {
    id: 'web-user.home',
    status: 'warn',
    message: `${who.name}'s own HOME ${home} is not usable: ${explainDenial(d, who, host)}; a channel that does not pin HOME fails under WP-cron if its CLI writes there`,
    fix: 'pin a writable HOME in every channel (bridgectl upgrade does it for bridge channels)',
  };
}

// ---------------------------------------------------------------- managed files

/** exists, ours, parses, readable by the dispatch user. Returns the text when it exists and is readable to us. */
function managedFile(checks: Check[], input: DoctorInput, area: 'channels' | 'transport', file: string, who: Who | undefined, createFix: string): string | undefined {
  const { host, site } = input;
  let text: string | undefined;
  try {
    text = host.readText(file);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    checks.push({ id: `${area}.exists`, status: 'fail', message: err.message, ...(err.hint ? { fix: err.hint } : {}) });
    return undefined;
  }
  if (text === undefined) {
    checks.push({ id: `${area}.exists`, status: 'fail', message: `${file} does not exist: no channel can be dispatched`, fix: createFix });
    return undefined;
  }
  checks.push({ id: `${area}.exists`, status: 'ok', message: `${file} exists` });

  if (area === 'channels') {
    try {
      const blocks = listBlocks(text);
      checks.push({ id: 'channels.markers', status: 'ok', message: `managed region holds ${blocks.length} block(s)${blocks.length ? `: ${blocks.map((b) => b.id).join(', ')}` : ''}` });
    } catch (err) {
      if (!(err instanceof MarkerError)) throw err;
      checks.push({
        id: 'channels.markers',
        status: 'fail',
        message: `${err.inFile(file).message} — bridgectl will not touch it`,
        fix: err.hint ?? `repair the '// BEGIN bridges' … '// END bridges' markers by hand, then bridgectl upgrade --site ${site}`,
      });
    }
  }

  if (input.lint === 'unavailable') {
    checks.push({ id: `${area}.php-lint`, status: 'warn', message: `${file} not linted: php is not on PATH`, fix: 'install the PHP CLI (apt-get install php-cli) and run doctor again' });
  } else {
    const lint = input.lint.get(file);
    if (lint && lint.ok) checks.push({ id: `${area}.php-lint`, status: 'ok', message: `php -l: no syntax errors in ${file}` });
    else if (lint) {
      const detail = lint.output.split('\n').map((l) => l.trim()).find((l) => /error/i.test(l)) ?? lint.output.trim();
      checks.push({
        id: `${area}.php-lint`,
        status: 'fail',
        message: `php -l rejects ${file}: ${detail} — PHP dies loading mu-plugins, the whole site with it`,
        fix: area === 'channels' ? `fix the syntax error (bridgectl upgrade --site ${site} rewrites only its blocks)` : `reinstall the transport mu-plugin`,
      });
    }
  }

  if (who) {
    const d = denial(host, who.principal, file, ['r']);
    if (!d) checks.push({ id: `${area}.readable`, status: 'ok', message: `${who.name} can read ${file}` });
    else {
      const fixes = d.reason === 'no-read' ? [`chmod 0644 ${shellQuote(file)}`] : reachGrants(d, who);
      checks.push({
        id: `${area}.readable`,
        status: 'fail',
        message: `${who.name} cannot read ${file}: ${explainDenial(d, who, host)}`,
        ...(fixes.length ? { fix: fixes.join(' && ') } : {}),
      });
    }
  }
  return text;
}

// ---------------------------------------------------------------- channels

function channelChecks(spec: ChannelSpec, cwd: string | undefined, channelsText: string, input: DoctorInput, who: Who | undefined): Check[] {
  const checks: Check[] = [];
  const traits = findBridge(spec.name)?.channelFacts ?? CUSTOM;
  const bridge = findBridge(spec.name);
  // The engine's own inspection decides the dispatch mode: the block runs the hop's wrapper, or hop files exist.
  const installed = bridge ? inspectInstalled(bridge, channelsText, lenient(input.host), []) : undefined;
  const sudo = installed?.dispatch?.mode === 'sudo';
  checks.push(commandCheck(spec, input, who, sudo));
  if (bridge && sudo) {
    checks.push(...sudoChecks(bridge, spec, traits, input, who));
  } else if (who) {
    const home = homeCheck(spec, traits, input, who);
    if (home) checks.push(home);
    const state = stateDirCheck(spec, traits, input, who);
    if (state) checks.push(...state);
    if (traits.writesCwd) checks.push(cwdCheck(spec, cwd, input, who));
    if (traits.socket) checks.push(socketCheck(spec, traits.socket, input, who));
  }
  if (bridge && installed) {
    const unit = unitEnvCheck(spec, bridge, installed, input);
    if (unit) checks.push(unit);
  }
  return checks;
}

/**
 * The host for doctor's inspection of what is installed: a read the OS
 * refuses counts as absent. A sudoers drop-in is root's alone (0440), and
 * doctor needs no privileges: not being root must not stop it. The sudo
 * checks then say what they could not read.
 */
function lenient(host: Facts): Facts {
  const soft =
    <R>(read: (p: string) => R | undefined) =>
    (p: string): R | undefined => {
      try {
        return read(p);
      } catch (err) {
        if (denied(err)) return undefined;
        throw err;
      }
    };
  return { ...host, readText: soft(host.readText), stat: soft(host.stat), lstat: soft(host.lstat) };
}

/** The channel's `'cwd' => '…'` entry, when a hand-edited block pins one (the transport honours it; bridgectl never writes one, and upgrade drops it from a bridge's block). */
function cwdOf(body: readonly string[]): string | undefined {
  for (const line of body) {
    const m = /^\s*'cwd'\s*=>\s*(.*?),\s*$/.exec(line);
    if (m) return parsePhpString(m[1] ?? '');
  }
  return undefined;
}

function commandCheck(spec: ChannelSpec, input: DoctorInput, who: Who | undefined, sudo: boolean): Check {
  const { host, site } = input;
  const id = `channel.${spec.name}.command`;
  const bridge = findBridge(spec.name);
  const upgrade = `bridgectl upgrade --site ${site}`;
  const relocate = bridge
    ? `install ${bridge.binaryName} where the web user can reach it (e.g. /usr/local/bin) and run bridgectl upgrade --site ${site} --binary /usr/local/bin/${bridge.binaryName}`
    : 'point the channel at a command the web user can reach';
  if (!path.posix.isAbsolute(spec.command)) {
    return { id, status: 'warn', message: `command '${spec.command}' is not an absolute path: PHP-FPM's PATH decides what runs, and bridgectl cannot see it`, fix: bridge ? `bridgectl upgrade --site ${site} --binary /absolute/path/to/${bridge.binaryName}` : 'use an absolute command path' };
  }
  // Follow symlinks in server space: an npm-global /usr/local/bin/kimaki is a link into a package dir.
  const real = realPath(host, spec.command);
  const facts = host.lstat(real);
  if (!facts) {
    const fix = sudo ? `${upgrade} (writes the sudo hop's wrapper again)` : bridge ? `bridgectl upgrade --site ${site} --binary /path/to/${bridge.binaryName}` : 'install it, or point the channel at the right path';
    return { id, status: 'fail', message: `command ${spec.command} does not exist: every dispatch fails to spawn`, fix };
  }
  if (facts.kind !== 'file') {
    return { id, status: 'fail', message: `command ${spec.command} is not a regular file (a ${facts.kind})`, fix: sudo ? `remove it, then ${upgrade}` : relocate };
  }
  if (!who) return { id, status: 'ok', message: `command ${spec.command} exists` };
  const d = denial(host, who.principal, spec.command, ['x']);
  if (!d) return { id, status: 'ok', message: `${who.name} can run ${spec.command}` };
  const fix =
    d.reason === 'no-exec'
      ? `chmod a+x ${shellQuote(spec.command)}`
      : d.unsearchable.some((u) => u.path === '/root' || u.path.startsWith('/root/'))
        ? relocate
        : systemDirsIn(d.unsearchable).length
          ? relocate
          : `${reachGrants(d, who).join(' && ')} (or ${relocate})`;
  return { id, status: 'fail', message: `${who.name} cannot run ${spec.command}: ${explainDenial(d, who, host)} — every dispatch fails to spawn`, fix };
}

// ---------------------------------------------------------------- sudo dispatch mode

/**
 * A bridge in sudo mode: the channel runs the hop's wrapper, which runs the
 * CLI as the service user. What bridgectl would write comes from the
 * engine's own render (upgrade's, with no flags: the installed identity,
 * web users and grant form), so doctor and upgrade cannot disagree.
 */
function sudoChecks(bridge: BridgeDefinition, spec: ChannelSpec, traits: ChannelFacts, input: DoctorInput, who: Who | undefined): Check[] {
  const { host, site } = input;
  const prefix = `channel.${bridge.id}.sudo`;
  const upgrade = `bridgectl upgrade --site ${site}`;
  let rendered: RenderedBridge;
  try {
    rendered = renderBridge(bridge, { site }, readChannelsFile(site, host), site, host, [], { action: 'upgrade' });
  } catch (err) {
    if (denied(err)) {
      return [
        {
          id: `${prefix}.render`,
          status: 'warn',
          message: `skipped: cannot read ${err.path ?? "the sudo hop's files"} (${err.code}): the sudo hop was not checked`,
          fix: 'run bridgectl doctor as root',
        },
      ];
    }
    if (!(err instanceof UserError)) throw err;
    return [{ id: `${prefix}.render`, status: 'fail', message: `cannot work out what bridgectl would write for the sudo hop: ${err.message}`, fix: err.hint ?? upgrade }];
  }
  const hop = rendered.dispatch.hop;
  if (!hop) {
    return [
      {
        id: `${prefix}.render`,
        status: 'warn',
        message: `sudo hop files are installed (${[...hopPathsOf(bridge)].join(', ')}), but ${bridge.id} has no sudo dispatch mode here: upgrade removes them`,
        fix: upgrade,
      },
    ];
  }
  const run = input.run ?? spawnRunner;
  const isRoot = input.isRoot ?? host.uid === 0;
  const checks: Check[] = [];
  const probe = (suffix: string, p: ProbeResult): Check => fromProbe(`${prefix}.${suffix}`, p, host);

  checks.push(
    spec.command === hop.paths.wrapper
      ? { id: `${prefix}.channel`, status: 'ok', message: `the channel runs the sudo hop's wrapper ${hop.paths.wrapper}, which runs ${bridge.binaryName} as ${hop.serviceUser}` }
      : {
          id: `${prefix}.channel`,
          status: 'fail',
          message: `the sudo hop is installed, but the channel runs ${spec.command}, not its wrapper ${hop.paths.wrapper}: dispatches run as the web user`,
          fix: upgrade,
        },
  );
  if (who) {
    checks.push(
      hop.webUsers.includes(who.name)
        ? { id: `${prefix}.web-user`, status: 'ok', message: `the grant lets ${who.name} take the hop (granted: ${hop.webUsers.join(', ')})` }
        : {
            id: `${prefix}.web-user`,
            status: 'fail',
            message: `the grant ${hop.paths.sudoers} is for ${hop.webUsers.join(', ')}, not ${who.name}: a dispatch from ${who.name} exits 77 (sudo refused)`,
            fix: `${upgrade} ${[...hop.webUsers, who.name].map((u) => `--web-user ${shellQuote(u)}`).join(' ')}`,
          },
    );
  }
  checks.push(probe('binary', probeSudoBinary(host)));
  checks.push(probe('version', probeSudoVersion(host, run)));
  const names: Record<string, string> = { [hop.paths.sudoers]: 'sudoers', [hop.paths.target]: 'target', [hop.paths.wrapper]: 'wrapper' };
  const expected = rendered.dispatch.files.filter((f) => f.after !== null);
  probeHopFiles(host, expected, upgrade).forEach((p, i) => checks.push(probe(names[expected[i]?.path ?? ''] ?? 'file', p)));
  checks.push(probe('dirs', probeHopDirectories(host, hop)));
  checks.push(probe('cli', probeHopCli(host, hop)));
  checks.push(probe('visudo', probeVisudo(host, hop, run, upgrade)));
  for (const user of hop.webUsers) {
    for (const p of probeGrant(host, { ...hop, webUsers: [user] }, run, isRoot, upgrade)) checks.push(probe(`grant.${user}`, p));
  }
  checks.push(...serviceDataDirCheck(bridge, rendered.identity, input));
  if (traits.socket) {
    const entry = host.user(rendered.identity.serviceUser);
    if (entry) checks.push(socketCheck(spec, traits.socket, input, whoIs(entry, host)));
  }
  return checks;
}

/** A read refused by the OS: a sudoers drop-in (0440 root, in a 0750 directory) when doctor is not root. */
function denied(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

function hopPathsOf(bridge: BridgeDefinition): string[] {
  return Object.values(hopPaths(bridge.id));
}

/** A probe's result as a check: a skipped probe is `ok` in a sandbox root, `warn` on the live host. */
function fromProbe(id: string, p: ProbeResult, host: Facts): Check {
  if (p.status !== 'skip') return { id, status: p.status, message: p.message, ...(p.fix ? { fix: p.fix } : {}) };
  if (host.root !== '/') return { id, status: 'ok', message: `skipped: ${p.message}` };
  return { id, status: 'warn', message: `skipped: ${p.message}`, fix: p.fix ?? 'run bridgectl doctor as root on the server' };
}

/**
 * The target runs as the service user: it creates the data dir if missing,
 * then runs the CLI from the service user's home (sudo keeps the caller's
 * cwd, so the target cds there itself). That user must be able to write
 * the data dir, every file in it (direct mode may have left the web user's
 * 0644 files behind, #16 item 3), and, for a CLI that writes ./tmp, the home.
 */
function serviceDataDirCheck(bridge: BridgeDefinition, identity: Identity, input: DoctorInput): Check[] {
  const { host } = input;
  const id = `channel.${bridge.id}.sudo.data-dir`;
  const dir = identity.dataDir;
  const entry = host.user(identity.serviceUser);
  if (!entry) {
    return [{ id, status: 'fail', message: `the service user ${identity.serviceUser} does not exist: sudo cannot run the target as it`, fix: `bridgectl upgrade --site ${input.site} --service-user <the user the bridge runs as>` }];
  }
  const svc = whoIs(entry, host);
  const owner = `${shellQuote(svc.name)}:${shellQuote(svc.group)}`;
  const checks: Check[] = [];
  const w = dirWritable(host, svc.principal, dir);
  if (!w.denial) {
    checks.push({
      id,
      status: 'ok',
      message: w.exists ? `${svc.name} can write its data dir ${dir}` : `the data dir ${dir} does not exist yet; ${svc.name} can create it in ${w.decidedOn} (the target does, mode 0700)`,
    });
    const locked = w.exists ? lockedEntries(host, svc.principal, dir) : [];
    if (locked.length) {
      checks.push({
        id: `${id}-files`,
        status: 'fail',
        message: `${svc.name} can write ${dir} but not ${locked.length} entr${locked.length === 1 ? 'y' : 'ies'} in it: ${listSome(locked, dir)} (left by dispatches as another user?) — ${bridge.binaryName} fails with EACCES`,
        fix: `give them back to the service user: chown -R ${owner} ${shellQuote(dir)} && chmod -R u+rwX ${shellQuote(dir)}`,
      });
    }
  } else {
    checks.push({
      id,
      status: 'fail',
      message: `${svc.name} cannot ${w.exists ? 'write' : 'create'} its data dir ${dir}: ${explainDenial(w.denial, svc, host)} — the target exits 73`,
      fix: w.exists ? `chown -R ${owner} ${shellQuote(dir)} && chmod -R u+rwX ${shellQuote(dir)}` : `install -d -o ${shellQuote(svc.name)} -g ${shellQuote(svc.group)} -m 0700 ${shellQuote(dir)}`,
    });
  }
  if (bridge.channelFacts.writesCwd) checks.push(serviceCwdCheck(bridge, svc, input));
  return checks;
}

/** The target runs the CLI in the service user's home: a CLI that writes ./tmp there needs it writable. */
function serviceCwdCheck(bridge: BridgeDefinition, svc: Who, input: DoctorInput): Check {
  const { host } = input;
  const id = `channel.${bridge.id}.sudo.cwd`;
  const home = svc.entry.home;
  const facts = host.stat(home);
  const d = facts?.isDirectory ? denial(host, svc.principal, home, ['w', 'x']) : { path: home, reason: 'missing' as const, unsearchable: [] };
  if (!d) return { id, status: 'ok', message: `${svc.name} can write its home ${home}, where the target runs ${bridge.binaryName} (it writes ./tmp there)` };
  const q = shellQuote(home);
  const fix = isSystemDir(home)
    ? `give ${svc.name} a home of its own, leaving ${home} as it is: install -d -o ${shellQuote(svc.name)} -g ${shellQuote(svc.group)} -m 0750 /srv/${svc.name} && usermod -d /srv/${svc.name} ${shellQuote(svc.name)} && bridgectl upgrade --site ${shellQuote(input.site)}`
    : !facts
      ? `install -d -o ${shellQuote(svc.name)} -g ${shellQuote(svc.group)} -m 0750 ${q}`
      : `chown ${shellQuote(svc.name)} ${q} && chmod u+rwx ${q}`;
  return { id, status: 'fail', message: `${svc.name} cannot write its home ${home}, where the target runs ${bridge.binaryName}: ${explainDenial(d, svc, host)} — it writes ./tmp there and dies with EACCES`, fix };
}

/** The seed's bug: HOME not pinned, so the CLI writes under the web user's own HOME. */
function homeCheck(spec: ChannelSpec, traits: ChannelFacts, input: DoctorInput, who: Who): Check | undefined {
  if (traits.writesHome === 'no') return undefined;
  const { host, site } = input;
  const id = `channel.${spec.name}.home`;
  const pinned = envValue(spec, 'HOME');
  if (pinned !== undefined) return { id, status: 'ok', message: `HOME is pinned to ${pinned}` };
  const webHome = who.entry.home;
  const upgrade = `bridgectl upgrade --site ${site}`;

  if (traits.writesHome === 'maybe') {
    const d = denial(host, who.principal, webHome, ['w', 'x']);
    if (!d) return { id, status: 'ok', message: `HOME is not pinned; ${who.name}'s own HOME ${webHome} is writable` };
    return {
      id,
      status: 'warn',
      message: `HOME is not pinned: under WP-cron ${spec.command} inherits ${who.name}'s HOME ${webHome}, and ${explainDenial(d, who, host)} — if it writes under HOME, every dispatch fails`,
      fix: `pin a writable HOME in the '${spec.name}' channel's env`,
    };
  }

  const state = traits.stateDir;
  if (state?.env !== undefined && envValue(spec, state.env) !== undefined) {
    // State is pinned elsewhere; what remains under HOME is the CLI's business.
    const d = denial(host, who.principal, webHome, ['w', 'x']);
    if (!d) return { id, status: 'ok', message: `HOME is not pinned (${state.env} is); ${who.name}'s own HOME ${webHome} is writable` };
    return {
      id,
      status: 'warn',
      message: `HOME is not pinned (${state.env} is): anything ${spec.name} writes under HOME goes to ${who.name}'s ${webHome}, and ${explainDenial(d, who, host)}`,
      fix: upgrade,
    };
  }
  const target = state ? path.posix.join(webHome, state.underHome) : webHome;
  const w = dirWritable(host, who.principal, target);
  if (w.denial) {
    return {
      id,
      status: 'fail',
      message:
        `HOME is not pinned: under WP-cron ${spec.name} inherits ${who.name}'s HOME ${webHome} and must ${w.exists ? 'write' : 'create'} ${target}, ` +
        `but ${explainDenial(w.denial, who, host)} — the send dies with EACCES${spec.name === 'kimaki' ? ' (exit 64)' : ''}`,
      fix: `${upgrade} (pins HOME${state?.env ? ` and ${state.env}` : ''} in the channel block, as the service has them)`,
    };
  }
  return {
    id,
    status: 'warn',
    message: `HOME is not pinned: under WP-cron ${spec.name} keeps its state in ${target}, apart from the bridge's own data dir`,
    fix: upgrade,
  };
}

/** The bug after the seed: the pinned state dir belongs to the service user and the web user cannot write it — or the files in it (#16 item 3). */
function stateDirCheck(spec: ChannelSpec, traits: ChannelFacts, input: DoctorInput, who: Who): Check[] | undefined {
  const state = traits.stateDir;
  if (!state) return undefined;
  const { host } = input;
  const pinnedDir = state.env === undefined ? undefined : envValue(spec, state.env);
  const pinnedHome = envValue(spec, 'HOME');
  const dir = pinnedDir ?? (pinnedHome === undefined ? undefined : path.posix.join(pinnedHome, state.underHome));
  if (dir === undefined) return undefined; // nothing pinned: the home check speaks for it
  const id = `channel.${spec.name}.data-dir`;
  const source = pinnedDir !== undefined ? `pinned by ${state.env}` : 'under the pinned HOME';
  const dies = `under WP-cron the send dies with EACCES${spec.name === 'kimaki' ? ' (exit 64)' : ''}`;
  const sudo = findBridge(spec.name)?.sudoHop ? `either dispatch through the sudo hop: ${sudoSwitch(input, who)}; or ` : '';
  const w = dirWritable(host, who.principal, dir);
  if (w.denial) {
    const d = w.denial;
    const dirFacts = host.stat(dir);
    const about = `${dir} (${source}${d.path === dir || !dirFacts ? '' : `; ${describeFacts(dirFacts, host)}`})`;
    return [
      {
        id,
        status: 'fail',
        message: `${who.name} cannot ${w.exists ? 'write' : 'create'} ${spec.name}'s data dir ${about}: ${explainDenial(d, who, host)} — ${dies}`,
        fix: `${sudo}${grantCommands(dir, w.exists, d, who, host, input)}`,
      },
    ];
  }
  const checks: Check[] = [
    {
      id,
      status: 'ok',
      message: w.exists ? `${who.name} can write ${spec.name}'s data dir ${dir}` : `${spec.name}'s data dir ${dir} does not exist yet; ${who.name} can create it in ${w.decidedOn}`,
    },
  ];
  if (w.exists) {
    // The directory is writable; the database, logs and sockets inside must be too: the CLI opens them all.
    const locked = lockedEntries(host, who.principal, dir);
    if (locked.length) {
      checks.push({
        id: `${id}-files`,
        status: 'fail',
        message: `${who.name} can write ${dir} but not ${locked.length} entr${locked.length === 1 ? 'y' : 'ies'} in it: ${listSome(locked, dir)} — ${dies}`,
        fix: `${sudo}grant ${who.name}'s group the whole tree: ${treeGrant(dir, who)}`,
      });
    }
  }
  return checks;
}

/**
 * The command that switches an installed bridge to the sudo hop. upgrade,
 * not install: install on an installed bridge also writes service
 * definitions it did not have (e.g. one installed with --init none).
 * upgrade switches every installed bridge that has a hop. The web user is
 * named only when doctor was told it: otherwise upgrade grants the users of
 * every PHP-FPM pool, doctor's among them (a name from env WEB_USER is
 * spelled out: the shell that runs the fix may not have it).
 */
function sudoSwitch(input: DoctorInput, who: Who): string {
  const user = input.webUser.source === 'flag' || input.webUser.source === 'env' ? ` --web-user ${shellQuote(who.name)}` : '';
  return `bridgectl upgrade --site ${shellQuote(input.site)} --dispatch sudo${user}`;
}

/**
 * One pass that lets the web user's group write `dir` and everything in it:
 * search on the directories above (group grants), then the tree. A system
 * directory on the way is never changed: the data dir moves instead.
 */
function grantCommands(dir: string, exists: boolean, d: Denial, who: Who, host: Facts, input: DoctorInput): string {
  const q = shellQuote(dir);
  const g = shellQuote(who.group);
  const system = systemDirsIn(d.unsearchable);
  if (system.length) {
    return `move the data dir out from under ${system.join(', ')} (a system directory, left as it is): install -d -g ${g} -m 2770 /srv/${path.posix.basename(dir).replace(/^\./, '')} && bridgectl upgrade --site ${shellQuote(input.site)} --data-dir /srv/${path.posix.basename(dir).replace(/^\./, '')}`;
  }
  const above = searchGrants(d.unsearchable.filter((u) => u.path !== dir), who);
  const prefix = `grant ${who.name}'s group write access: `;
  if (!exists) {
    let parent = path.posix.dirname(dir);
    while (host.stat(parent) === undefined && parent !== '/') parent = path.posix.dirname(parent);
    const owner = host.userByUid(host.stat(parent)?.uid ?? 0)?.name ?? 'root';
    return prefix + [...above, `install -d -o ${shellQuote(owner)} -g ${g} -m 2770 ${q}`].join(' && ');
  }
  return prefix + [...above, treeGrant(dir, who)].join(' && ');
}

/** Group search grants for the directories the user cannot search, system directories left out (callers move things instead). */
function reachGrants(d: Denial, who: Who): string[] {
  return searchGrants(d.unsearchable.filter((u) => !isSystemDir(u.path)), who);
}

/**
 * kimaki #159: `kimaki send` writes ./tmp under its working directory. The
 * transport's contract: the child runs in the channel's 'cwd' when set,
 * else in its pinned HOME, else in PHP's own (for WP-cron over HTTP the
 * site root is the stand-in). An unwritable one kills the send: fail.
 */
function cwdCheck(spec: ChannelSpec, cwd: string | undefined, input: DoctorInput, who: Who): Check {
  const { host, site } = input;
  const id = `channel.${spec.name}.cwd`;
  const home = envValue(spec, 'HOME');
  const phps = "PHP's working directory, for WP-cron over HTTP usually the site root";
  const [wanted, wantedWhence] =
    cwd !== undefined ? [cwd, "the channel's 'cwd'"] : home !== undefined ? [home, 'the pinned HOME, where the transport runs it'] : [site, phps];
  // A directory the web user cannot enter is skipped by the transport (PHP's chdir would fail silently anyway): PHP's own cwd it is.
  const wantedFacts = host.stat(wanted);
  const unenterable = wanted !== site && wantedFacts?.isDirectory === true && denial(host, who.principal, wanted, ['x']) !== undefined;
  const [dir, whence] = unenterable ? [site, `${phps}: ${who.name} cannot enter ${wanted} (${wantedWhence}), so the transport leaves the CLI there`] : [wanted, wantedWhence];
  const facts = host.stat(dir);
  const d = facts?.isDirectory ? denial(host, who.principal, dir, ['w', 'x']) : { path: dir, reason: 'missing' as const, unsearchable: [] };
  if (!d) return { id, status: 'ok', message: `${who.name} can write ${dir} (${whence}), where ${spec.name} writes ./tmp` };
  const bridge = findBridge(spec.name);
  const sudo = bridge?.sudoHop ? [`dispatch through sudo, whose target runs ${spec.name} as the service user in its home: ${sudoSwitch(input, who)}`] : [];
  // The fix goes to the directory meant for it (the pinned HOME), not to the site root it fell back to.
  const target = unenterable ? wanted : dir;
  const targetFacts = unenterable ? wantedFacts : facts;
  const reach = unenterable ? (denial(host, who.principal, wanted, ['x'])?.unsearchable ?? []) : d.unsearchable;
  const system = [...systemDirsIn(reach), ...(isSystemDir(target) ? [target] : [])];
  const grant = !targetFacts?.isDirectory
    ? [`install -d -g ${shellQuote(who.group)} -m 2770 ${shellQuote(target)}`]
    : system.length
      ? [`run the service as a user with a home of its own, leaving ${system.join(', ')} as it is: bridgectl upgrade --site ${shellQuote(site)} --service-user <user>`]
      : [[...searchGrants(reach.filter((u) => u.path !== target), who), dirGrant(target, targetFacts, who)].join(' && ')];
  return {
    id,
    status: 'fail',
    message: `${who.name} cannot write ${dir} (${whence}): ${explainDenial(d, who, host)} — ${spec.name} writes ./tmp there and the send dies with EACCES${spec.name === 'kimaki' ? ' (exit 64)' : ''}`,
    fix: [...sudo, ...grant].join('; or '),
  };
}

/** cc-connect: the CLI talks to the daemon over <data dir>/run/api.sock. */
function socketCheck(spec: ChannelSpec, socket: NonNullable<ChannelFacts['socket']>, input: DoctorInput, who: Who): Check {
  const { host } = input;
  const id = `channel.${spec.name}.socket`;
  const flagAt = spec.args.indexOf(socket.dataDirFlag);
  const inline = spec.args.find((a) => a.startsWith(`${socket.dataDirFlag}=`))?.slice(socket.dataDirFlag.length + 1);
  const fromArgs = flagAt >= 0 ? spec.args[flagAt + 1] : inline;
  const home = envValue(spec, 'HOME');
  const dataDir = fromArgs ?? path.posix.join(home ?? who.entry.home, socket.underHome);
  const sock = path.posix.join(dataDir, socket.path);
  const whence = fromArgs !== undefined ? `from ${socket.dataDirFlag}` : home !== undefined ? 'under the pinned HOME' : `under ${who.name}'s own HOME: HOME is not pinned`;
  const facts = host.lstat(sock);
  if (!facts) {
    return {
      id,
      status: 'warn',
      message: `no daemon socket at ${sock} (${whence}): the ${spec.name} daemon is not running, or it uses another data dir`,
      fix: `start the ${spec.name} daemon, or pass its data dir in the channel's args (${socket.dataDirFlag} DIR)`,
    };
  }
  if (facts.kind !== 'socket') {
    return { id, status: 'warn', message: `${sock} (${whence}) is a ${facts.kind}, not a socket`, fix: `restart the ${spec.name} daemon` };
  }
  // connect(2) on a unix socket needs search on every directory above and write on the socket.
  const d = denial(host, who.principal, sock, ['w']);
  if (!d) return { id, status: 'ok', message: `${who.name} can connect to ${sock}` };
  // One pass (#16 item 9): the directories above and the socket's own mode together.
  const system = systemDirsIn(d.unsearchable);
  const q = shellQuote(sock);
  const sockFix = canAccess(who.principal, facts, 'w')
    ? []
    : [who.principal.gids.includes(facts.gid) ? `chmod g+w ${q}` : `chgrp ${shellQuote(who.group)} ${q} && chmod g+w ${q}`];
  const fix = system.length
    ? `move the ${spec.name} data dir out from under ${system.join(', ')} (a system directory, left as it is) and pass it with ${socket.dataDirFlag}`
    : [...searchGrants(d.unsearchable, who), ...sockFix].join(' && ');
  const keep = sockFix.length ? ' (the daemon must create it so again after a restart, e.g. UMask=0002 in a setgid run dir)' : '';
  return { id, status: 'fail', message: `${who.name} cannot connect to ${sock}: ${explainDenial(d, who, host)}${keep}`, fix };
}

/** The seed's asymmetry: the unit pins HOME / the data dir and the channel block does not (or differs). */
function unitEnvCheck(spec: ChannelSpec, bridge: BridgeDefinition, installed: InstalledBridge, input: DoctorInput): Check | undefined {
  const { site } = input;
  const primary = [...installed.services.entries()][0];
  if (!primary) return undefined;
  const [unitPath, unit] = primary;
  const id = `channel.${spec.name}.unit-env`;
  // Only what the bridge's block pins: telegram's curl channel pins no HOME by design (its unit does).
  const keys = [...(bridge.channelFacts.pins ?? [])];
  if (keys.length === 0) return undefined;
  // Either side pinning a key the other does not is a disagreement too: a
  // unit whose HOME line was swallowed by a continuation line pins nothing.
  const differ = keys.filter((k) => envOf(unit.parsed, k) !== envValue(spec, k));
  const name = path.posix.basename(unitPath);
  if (differ.length === 0) return { id, status: 'ok', message: `the channel block and ${name} agree on ${keys.join(' and ')}` };
  const detail = differ.map((k) => `${k}: unit ${envOf(unit.parsed, k) ?? 'not pinned'}, block ${envValue(spec, k) ?? 'not pinned'}`).join('; ');
  return {
    id,
    status: 'fail',
    message: `${name} and the channel block disagree (${detail}): the service and WP-cron dispatches run with different state`,
    fix: `bridgectl upgrade --site ${site}`,
  };
}
