/** What the channel's CLI touches on disk as the web user: HOME, its state dir, its working directory, its daemon's socket. */
import path from 'node:path';
import { findBridge } from '../../bridges/index.js';
import type { ChannelFacts } from '../model/bridge.js';
import { envValue } from '../render/channel.js';
import { type ChannelSpec } from '../model/channel.js';
import { canAccess } from '../lib/access.js';
import { denial, describeFacts, dirWritable, explainDenial, type Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';
import { dirGrant, isSystemDir, listSome, lockedEntries, searchGrants, systemDirsIn, treeGrant } from './grant.js';
import type { Check } from '../model/doctor.js';
import type { DoctorInput } from './input.js';
import { grantCommands, pinHome, sudoSwitch } from './fixes.js';

/** The seed's bug: HOME not pinned, so the CLI writes under the web user's own HOME. */
export function homeCheck(spec: ChannelSpec, traits: ChannelFacts, input: DoctorInput, who: Who): Check | undefined {
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
      fix: pinHome(spec, site, who).join(' && '),
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
export function stateDirCheck(spec: ChannelSpec, traits: ChannelFacts, input: DoctorInput, who: Who): Check[] | undefined {
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
 * kimaki #159: `kimaki send` writes ./tmp under its working directory. The
 * transport's contract: the child runs in the channel's 'cwd' when set,
 * else in its pinned HOME, else in PHP's own (for WP-cron over HTTP the
 * site root is the stand-in). An unwritable one kills the send: fail.
 */
export function cwdCheck(spec: ChannelSpec, cwd: string | undefined, input: DoctorInput, who: Who): Check {
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
export function socketCheck(spec: ChannelSpec, socket: NonNullable<ChannelFacts['socket']>, input: DoctorInput, who: Who): Check {
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
