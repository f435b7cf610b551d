/** --dispatch sudo: the hop's files, grant and CLI as the probes find them, and the service user's side of the run. */
import type { BridgeDefinition, ChannelFacts } from '../model/bridge.js';
import { type ChannelSpec } from '../model/channel.js';
import { renderBridge, type RenderedBridge } from '../plan/engine.js';
import { readChannelsFile } from '../plan/installed.js';
import { UserError } from '../model/errors.js';
import type { Identity } from '../model/identity.js';
import { denial, dirWritable, explainDenial, whoIs, type Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';
import { isSystemDir, listSome, lockedEntries } from './grant.js';
import { hopPaths } from '../lib/paths.js';
import { fromProbe, grantProbes, probeHopCli, probeHopDirectories, probeHopFiles, probeSudoBinary, probeSudoVersion, visudoProbe, type Finding, type LiveProbe, type ProbeResult } from './probes.js';
import type { Check } from '../model/doctor.js';
import type { DoctorInput } from './input.js';
import { socketCheck } from './state-dir.js';

// ---------------------------------------------------------------- sudo dispatch mode

/**
 * A bridge in sudo mode: the channel runs the hop's wrapper, which runs the
 * CLI as the service user. What bridgectl would write comes from the
 * engine's own render (upgrade's, with no flags: the installed identity,
 * web users and grant form), so doctor and upgrade cannot disagree.
 */
export function sudoChecks(bridge: BridgeDefinition, spec: ChannelSpec, traits: ChannelFacts, input: DoctorInput, who: Who | undefined): Finding[] {
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
          fix: `sudo bridgectl doctor --site ${shellQuote(site)}`,
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
  const isRoot = input.isRoot ?? host.uid === 0;
  const checks: Finding[] = [];
  // A live probe's check stands where it will be reported; the live step runs it (sudo-probe.ts).
  const probe = (suffix: string, p: ProbeResult | LiveProbe): Finding => ('kind' in p ? { id: `${prefix}.${suffix}`, probe: p } : fromProbe(`${prefix}.${suffix}`, p, host.root));

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
  checks.push(probe('version', probeSudoVersion(host)));
  const names: Record<string, string> = { [hop.paths.sudoers]: 'sudoers', [hop.paths.target]: 'target', [hop.paths.wrapper]: 'wrapper' };
  const expected = rendered.dispatch.files.filter((f) => f.after !== null);
  probeHopFiles(host, expected, upgrade).forEach((p, i) => checks.push(probe(names[expected[i]?.path ?? ''] ?? 'file', p)));
  checks.push(probe('dirs', probeHopDirectories(host, hop)));
  checks.push(probe('cli', probeHopCli(host, hop)));
  checks.push(probe('visudo', visudoProbe(host, hop, upgrade)));
  for (const user of hop.webUsers) {
    for (const p of grantProbes(host, { ...hop, webUsers: [user] }, isRoot, upgrade)) checks.push(probe(`grant.${user}`, p));
  }
  checks.push(...serviceDataDirCheck(bridge, rendered.identity, input));
  if (traits.socket) {
    const entry = host.user(rendered.identity.serviceUser);
    if (entry) checks.push(socketCheck(spec, traits.socket, input, whoIs(entry, host)));
  }
  return checks;
}

/** A read refused by the OS: a sudoers drop-in (0440 root, in a 0750 directory) when doctor is not root. */
export function denied(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

export function hopPathsOf(bridge: BridgeDefinition): string[] {
  return Object.values(hopPaths(bridge.id));
}

/**
 * The target runs as the service user: it creates the data dir if missing,
 * then runs the CLI from the service user's home (sudo keeps the caller's
 * cwd, so the target cds there itself). That user must be able to write
 * the data dir, every file in it (direct mode may have left the web user's
 * 0644 files behind, #16 item 3), and, for a CLI that writes ./tmp, the home.
 */
export function serviceDataDirCheck(bridge: BridgeDefinition, identity: Identity, input: DoctorInput): Check[] {
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
export function serviceCwdCheck(bridge: BridgeDefinition, svc: Who, input: DoctorInput): Check {
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
