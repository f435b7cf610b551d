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
import path from 'node:path';
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
import { fromProbe, isPending, type Finding, type LiveProbe, type ProbeOutcome } from './probes.js';

export type { DoctorInput } from './input.js';
export type { Finding, LintResult } from './probes.js';

/** The diagnosis over the facts alone; the live probes' checks are left pending (`settle` fills them in). */
export function diagnose(input: DoctorInput): Finding[] {
  const { host, site, webUser } = input;
  const checks: Finding[] = [];
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

export function webUserCheck(webUser: WebUser, who: Who | undefined, host: Facts): Check {
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

export function webHomeCheck(who: Who, host: Facts): Check {
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
