/**
 * "Will a dispatch from WP-cron work?", answered the way the web user meets
 * it. Pure: facts come through the Facts (stat bits, passwd, group, file
 * text, the sudo fact), and the output is a list of checks, each ok / warn
 * / fail with a one-line fix. The checks that need a process (php -l, visudo,
 * the grant tried as each web user) stand in the list as live probes;
 * doctor's live step (sudo-probe.ts) runs them, and `settle` turns what they
 * gave into those checks, in place.
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
 * each web user do (probes.ts). Probes that need the live host are
 * reported as skipped: `ok` under a sandbox --root (it is not the server,
 * nothing there is wrong), `warn` on the live host (an unverified grant is
 * how upstream certified a stale one, #304).
 */
import { findBridge } from '../../bridges/index.js';
import { parseChannelBody } from '../render/channel.js';
import type { Facts } from '../model/facts.js';
import { listBlocks } from '../render/markers.js';
import { channelsFile, transportFile } from '../lib/paths.js';
import { denial, explainDenial, whoIs, type Who } from '../lib/reach.js';
import type { WebUser } from '../model/web-user.js';
import type { Check } from '../model/doctor.js';
import type { DoctorInput } from './input.js';
import { channelChecks, cwdOf } from './channel.js';
import { lintCheck, managedFile } from './managed-files.js';
import { channelSetCommand, homeFix } from './fixes.js';
import { shellQuote } from '../lib/shell.js';
import type { ChannelSpec } from '../model/channel.js';
import { fromProbe, isPending, type Finding, type LiveProbe, type ProbeOutcome } from './probes.js';

export type { DoctorInput } from './input.js';
export type { Finding, LintResult } from './probes.js';

/** The diagnosis over the facts alone; the live probes' checks are left pending (`settle` fills them in). */
export function diagnose(input: DoctorInput): Finding[] {
  const { host, site, webUser } = input;
  const checks: Finding[] = [];
  const entry = host.user(webUser.name);
  const who = entry ? whoIs(entry, host) : undefined;
  checks.push(webUserCheck(webUser, who, host, site));
  // web-user.home stands here, decided once the channels are known: it matters only if one meets that HOME.
  const homeAt = checks.length;

  const channels = channelsFile(site);
  const text = managedFile(checks, input, 'channels', channels, who, `bridgectl install --bridge <id> --site ${site}`);
  let blocks: { id: string; body: string[] }[] | undefined;
  try {
    blocks = text === undefined ? undefined : listBlocks(text);
  } catch {
    blocks = undefined; // reported by channels.markers
  }
  const parsed = (blocks ?? []).map((block) => ({ block, spec: parseChannelBody(block.body) }));
  // A channels file we cannot read, or whose region is damaged: nothing is known of the channels, so the web user's HOME may matter.
  const unknown = text !== undefined && blocks === undefined;
  const missing = text === undefined && host.stat(channels) === undefined;
  const none = text !== undefined && blocks !== undefined && blocks.length === 0;

  const transport = transportFile(site);
  if (host.stat(transport) === undefined) {
    // The transport is removed with the last channel: missing matters only while a channel is registered.
    if (!none && !missing) checks.push(transportMissing(transport, site, parsed.flatMap((p) => (p.spec ? [p.spec] : []))));
  } else {
    managedFile(checks, input, 'transport', transport, who, '');
  }

  if (none) {
    checks.push({
      id: 'channels.blocks',
      status: 'fail',
      message: `no channels installed: ${channels} registers none, so WP-cron has nothing to dispatch`,
      fix: `bridgectl install --bridge <id> --site ${shellQuote(site)}`,
    });
  }
  let meetsHome = unknown || (text === undefined && !missing);
  const meeting: ChannelSpec[] = [];
  for (const { block, spec } of parsed) {
    if (!spec) {
      meetsHome = true;
      checks.push({
        id: `channel.${block.id}.block`,
        status: 'warn',
        message: `block bridge:${block.id} is not in the shape bridgectl renders; its channel was not checked`,
        fix: findBridge(block.id) ? `bridgectl upgrade --site ${shellQuote(site)}` : `bridgectl channel remove ${shellQuote(block.id)} --site ${shellQuote(site)} && bridgectl channel set ${shellQuote(block.id)} --site ${shellQuote(site)} --command /path/to/the/command`,
      });
      continue;
    }
    const result = channelChecks(spec, cwdOf(block.body), text ?? '', input, who);
    if (result.meetsWebHome) meeting.push(spec);
    checks.push(...result.checks);
  }
  if (who) checks.splice(homeAt, 0, webHomeCheck(who, host, meetsHome || meeting.length > 0, homeFix(meeting, site, who)));
  return checks;
}

/** transport.exists when the file is missing: the command that writes it again (upgrade for a bridge, channel set for a custom channel). */
function transportMissing(transport: string, site: string, specs: readonly ChannelSpec[]): Check {
  const custom = specs.find((s) => !findBridge(s.name));
  const fix =
    specs.some((s) => findBridge(s.name)) || !custom
      ? `bridgectl upgrade --site ${shellQuote(site)}`
      : channelSetCommand(custom, site);
  return {
    id: 'transport.exists',
    status: 'warn',
    message: `the CLI transport ${transport} is not installed: nothing in WordPress runs the channels`,
    fix,
  };
}

/** The live probes the diagnosis is waiting on, in report order. */
export function liveProbes(findings: readonly Finding[]): LiveProbe[] {
  return findings.filter(isPending).map((f) => f.probe);
}

/** The checks, with each live probe's check made from what it gave (a php -l check may drop out: a file not linted). */
export function settle(findings: readonly Finding[], outcomes: ReadonlyMap<LiveProbe, ProbeOutcome>, root: string): Check[] {
  return findings.flatMap((f): Check[] => {
    if (!isPending(f)) return [f];
    const outcome = outcomes.get(f.probe);
    if (f.probe.kind === 'php-lint') {
      if (outcome !== undefined && outcome !== 'unavailable' && !('ok' in outcome)) throw new Error(`${f.id}: not a php -l result`);
      const check = lintCheck(f.probe, outcome);
      return check ? [check] : [];
    }
    if (outcome === undefined || outcome === 'unavailable' || !('status' in outcome)) throw new Error(`${f.id}: the live probe has no result`);
    return [fromProbe(f.id, outcome, root)];
  });
}

/** Exit status of a doctor run: 1 on any fail, else 0 (warnings do not fail it). */
export function doctorExitCode(checks: readonly Check[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

// ---------------------------------------------------------------- the web user

export function webUserCheck(webUser: WebUser, who: Who | undefined, host: Facts, site: string): Check {
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
      fix: `bridgectl doctor --site ${shellQuote(site)} --web-user <the user PHP-FPM runs WP-cron as>`,
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

/**
 * The web user's own HOME. Unusable, it warns only when a channel meets it
 * (`meets`: one that runs as the web user, does not pin HOME and may write
 * there); otherwise stock Debian's root-owned /var/www would warn on every
 * run and teach operators to ignore doctor.
 */
export function webHomeCheck(who: Who, host: Facts, meets = true, fix = 'pin a writable HOME in every channel: bridgectl upgrade does it for bridge channels'): Check {
  const home = who.entry.home;
  const d = denial(host, who.principal, home, ['w', 'x']);
  if (!d) return { id: 'web-user.home', status: 'ok', message: `${who.name}'s own HOME ${home} is writable by it` };
  if (!meets) {
    return { id: 'web-user.home', status: 'ok', message: `${who.name}'s own HOME ${home} is not writable by it, and no installed channel writes there (each pins HOME or writes nothing under it)` };
  }
  return {
    id: 'web-user.home',
    status: 'warn',
    message: `${who.name}'s own HOME ${home} is not usable: ${explainDenial(d, who, host)}; a channel that does not pin HOME fails under WP-cron if its CLI writes there`,
    fix,
  };
}
