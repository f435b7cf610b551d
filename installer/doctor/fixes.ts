/** The commands doctor suggests as fixes: grants that let the web user reach what it must, and how to run them as the service user. */
import path from 'node:path';
import type { ChannelSpec } from '../model/channel.js';
import { findBridge } from '../../bridges/index.js';
import type { Facts } from '../model/facts.js';
import { type Denial, type Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';
import { isSystemDir, searchGrants, systemDirsIn, treeGrant } from './grant.js';
import type { DoctorInput } from './input.js';

/**
 * The command that switches an installed bridge to the sudo hop. upgrade,
 * not install: install on an installed bridge also writes service
 * definitions it did not have (e.g. one installed with --init none).
 * upgrade switches every installed bridge that has a hop. The web user is
 * named only when doctor was told it: otherwise upgrade grants the users of
 * every PHP-FPM pool, doctor's among them (a name from env WEB_USER is
 * spelled out: the shell that runs the fix may not have it).
 */
export function sudoSwitch(input: DoctorInput, who: Who): string {
  const user = input.webUser.source === 'flag' || input.webUser.source === 'env' ? ` --web-user ${shellQuote(who.name)}` : '';
  return `bridgectl upgrade --site ${shellQuote(input.site)} --dispatch sudo${user}`;
}

/**
 * One pass that lets the web user's group write `dir` and everything in it:
 * search on the directories above (group grants), then the tree. A system
 * directory on the way is never changed: the data dir moves instead.
 */
export function grantCommands(dir: string, exists: boolean, d: Denial, who: Who, host: Facts, input: DoctorInput): string {
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
export function reachGrants(d: Denial, who: Who): string[] {
  return searchGrants(d.unsearchable.filter((u) => !isSystemDir(u.path)), who);
}

/** The `channel set` that writes this custom channel as it is (and the transport with it, when missing). */
export function channelSetCommand(spec: ChannelSpec, site: string, extraEnv: [string, string][] = []): string {
  const words = ['bridgectl', 'channel', 'set', shellQuote(spec.name), '--site', shellQuote(site), '--command', shellQuote(spec.command)];
  for (const arg of spec.args) words.push(shellQuote(`--arg=${arg}`));
  for (const [k, v] of [...spec.env.filter(([k]) => !extraEnv.some(([e]) => e === k)), ...extraEnv]) words.push('--env', shellQuote(`${k}=${v}`));
  if (!spec.detach) words.push('--no-detach');
  words.push('--timeout', String(spec.timeout));
  return words.join(' ');
}

/**
 * The fix when channels meet the web user's unusable HOME: upgrade pins it
 * for bridge channels; a custom channel gets a HOME of its own, made for the
 * web user, and is set again with it.
 */
export function homeFix(meeting: readonly ChannelSpec[], site: string, who: Who): string {
  const steps: string[] = [];
  if (meeting.some((s) => findBridge(s.name))) steps.push(`bridgectl upgrade --site ${shellQuote(site)}`);
  for (const spec of meeting.filter((s) => !findBridge(s.name))) steps.push(...pinHome(spec, site, who));
  return steps.length ? steps.join(' && ') : `bridgectl upgrade --site ${shellQuote(site)}`;
}

/** A HOME for a custom channel the web user can write, and the channel set again with it pinned. */
export function pinHome(spec: ChannelSpec, site: string, who: Who): string[] {
  const home = `/srv/${spec.name}-home`;
  return [`install -d -o ${shellQuote(who.name)} -g ${shellQuote(who.group)} -m 0700 ${home}`, channelSetCommand(spec, site, [['HOME', home]])];
}
