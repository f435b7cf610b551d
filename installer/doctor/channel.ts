/** One registered channel: its command as the web user meets it, then the checks its CLI's facts call for. */
import path from 'node:path';
import { findBridge } from '../../bridges/index.js';
import type { ChannelFacts } from '../model/bridge.js';
import { type ChannelSpec } from '../model/channel.js';
import { envValue } from '../render/channel.js';
import { inspectInstalled } from '../plan/installed.js';
import type { Facts } from '../model/facts.js';
import { parsePhpString } from '../lib/php.js';
import { denial, explainDenial, realPath, type Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';
import { systemDirsIn } from './grant.js';
import { parseManaged } from '../render/markers.js';
import type { Check } from '../model/doctor.js';
import type { Finding } from './probes.js';
import type { DoctorInput } from './input.js';
import { channelSetCommand, reachGrants } from './fixes.js';
import { cwdCheck, homeCheck, socketCheck, stateDirCheck } from './state-dir.js';
import { denied, sudoChecks } from './sudo.js';
import { unitEnvCheck } from './unit-env.js';

/** Custom channels: nothing known, so an unpinned HOME only warns. */
const CUSTOM: ChannelFacts = { writesHome: 'maybe' };

// ---------------------------------------------------------------- channels

/** A channel's checks, and whether it meets the web user's own HOME (runs as the web user, HOME not pinned, may write there). */
export function channelChecks(spec: ChannelSpec, cwd: string | undefined, channelsText: string, input: DoctorInput, who: Who | undefined): { checks: Finding[]; meetsWebHome: boolean } {
  const checks: Finding[] = [];
  const traits = findBridge(spec.name)?.channelFacts ?? CUSTOM;
  const bridge = findBridge(spec.name);
  // The engine's own inspection decides the dispatch mode: the block runs the hop's wrapper, or hop files exist.
  const installed = bridge ? inspectInstalled(bridge, parseManaged(channelsText), lenient(input.host), []) : undefined;
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
  return { checks, meetsWebHome: !sudo && traits.writesHome !== 'no' && envValue(spec, 'HOME') === undefined };
}

/**
 * The host for doctor's inspection of what is installed: a read the OS
 * refuses counts as absent. A sudoers drop-in is root's alone (0440), and
 * doctor needs no privileges: not being root must not stop it. The sudo
 * checks then say what they could not read.
 */
export function lenient(host: Facts): Facts {
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
export function cwdOf(body: readonly string[]): string | undefined {
  for (const line of body) {
    const m = /^\s*'cwd'\s*=>\s*(.*?),\s*$/.exec(line);
    if (m) return parsePhpString(m[1] ?? '');
  }
  return undefined;
}

export function commandCheck(spec: ChannelSpec, input: DoctorInput, who: Who | undefined, sudo: boolean): Check {
  const { host, site } = input;
  const id = `channel.${spec.name}.command`;
  const bridge = findBridge(spec.name);
  const upgrade = `bridgectl upgrade --site ${site}`;
  const relocate = bridge
    ? `install ${bridge.binaryName} where the web user can reach it (e.g. /usr/local/bin) and run bridgectl upgrade --site ${site} --binary /usr/local/bin/${bridge.binaryName}`
    : 'point the channel at a command the web user can reach';
  if (!path.posix.isAbsolute(spec.command)) {
    return { id, status: 'warn', message: `command '${spec.command}' is not an absolute path: PHP-FPM's PATH decides what runs, and bridgectl cannot see it`, fix: bridge ? `bridgectl upgrade --site ${site} --binary /absolute/path/to/${bridge.binaryName}` : channelSetCommand({ ...spec, command: `/absolute/path/to/${path.posix.basename(spec.command)}` }, site) };
  }
  // Follow symlinks in server space: an npm-global /usr/local/bin/kimaki is a link into a package dir.
  const real = realPath(host, spec.command);
  const facts = host.lstat(real);
  if (!facts) {
    const fix = sudo ? `${upgrade} (writes the sudo hop's wrapper again)` : bridge ? `bridgectl upgrade --site ${site} --binary /path/to/${bridge.binaryName}` : channelSetCommand({ ...spec, command: '/path/to/the/command' }, site);
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
