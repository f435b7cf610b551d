/**
 * What is installed of one bridge's sudo hop, read back from the snapshot:
 * the hop files, the CLI the target runs, and who and how the grant admits
 * (plan/sudo-hop.ts plans from it; render/sudo-hop.ts writes the files).
 */
import type { BridgeDefinition } from '../model/bridge.js';
import type { ChannelSpec } from '../model/channel.js';
import type { SudoHopSpec } from '../model/sudo.js';
import type { DispatchMode, GrantForm } from '../model/dispatch.js';
import type { Facts, PathFacts } from '../model/facts.js';
import { BLOCK_ID, hopPaths } from '../lib/paths.js';
import { renderSudoers, SUDOERS_NAME } from '../render/sudo-hop.js';

export interface InstalledHopFile {
  text: string;
  facts: PathFacts | undefined;
}

/** What is on disk of one bridge's hop. */
export interface InstalledDispatch {
  /** direct unless the channel runs our wrapper or any hop file exists. */
  mode: DispatchMode;
  /** Whether anything says how this bridge dispatches (a block or a hop file). */
  known: boolean;
  /** The hop files present, by server path. */
  files: Map<string, InstalledHopFile>;
  /** The real CLI, read from the installed target (the block's command is the wrapper). */
  binary?: string;
  webUsers?: string[];
  serviceUser?: string;
  form?: GrantForm;
}

export function inspectDispatch(bridge: BridgeDefinition, block: ChannelSpec | undefined, host: Facts): InstalledDispatch {
  const installed: InstalledDispatch = { mode: 'direct', known: block !== undefined, files: new Map() };
  if (!BLOCK_ID.test(bridge.id)) return installed;
  const paths = hopPaths(bridge.id);
  for (const p of [paths.sudoers, paths.target, paths.wrapper]) {
    const text = host.readText(p);
    if (text !== undefined) installed.files.set(p, { text, facts: host.lstat(p) });
  }
  const usesWrapper = block?.command === paths.wrapper;
  if (!usesWrapper && installed.files.size === 0) return installed;
  installed.mode = 'sudo';
  installed.known = true;

  const targetText = installed.files.get(paths.target)?.text;
  const cli = targetText === undefined ? undefined : /^CLI=('(?:[^']|'\\'')*')$/m.exec(targetText)?.[1];
  if (cli !== undefined) installed.binary = parseShellQuoted(cli);
  const grant = parseGrant(installed.files.get(paths.sudoers)?.text, paths.target);
  if (grant) Object.assign(installed, grant);
  return installed;
}

/** Read back a word as shellQuote renders it. */
export function parseShellQuoted(word: string): string | undefined {
  if (!/^'(?:[^']|'\\'')*'$/.test(word)) return undefined;
  return word.slice(1, -1).replace(/'\\''/g, "'");
}

/**
 * The users, run-as user and form of an installed grant. The users come
 * from the first rule line whatever its command, so a hand-widened grant
 * (`… NOPASSWD: ALL`) is put back for the same users; the form only from a
 * rule for our target.
 */
export function parseGrant(text: string | undefined, target: string): Pick<InstalledDispatch, 'webUsers' | 'serviceUser' | 'form'> | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const m = /^([^#\s][^=]*?)\s+ALL\s*=\s*\(([^)]+)\)\s*(?:NOPASSWD:\s*)?(.*)$/.exec(line);
    if (!m || m[1]?.startsWith('Defaults')) continue;
    const command = /^(\S+) (.*)$/.exec(m[3] ?? '');
    return {
      webUsers: (m[1] ?? '').split(/\s*,\s*/).filter(Boolean),
      serviceUser: (m[2] ?? '').trim(),
      ...(command && command[1] === target ? { form: (command[2] ?? '').startsWith('^') ? 'regex' : 'wildcard' } : {}),
    } as Pick<InstalledDispatch, 'webUsers' | 'serviceUser' | 'form'>;
  }
  return undefined;
}

/**
 * The form of the installed grant, when bridgectl wrote it: its text is
 * byte for byte one of bridgectl's renderings for the users and run-as user
 * it names. A grant edited by hand (`<target> *`) says nothing about which
 * form this sudo reads, so it is undefined then.
 */
export function ownGrantForm(bridge: BridgeDefinition, hop: SudoHopSpec, installed: InstalledDispatch): GrantForm | undefined {
  const text = installed.files.get(hopPaths(bridge.id).sudoers)?.text;
  if (text === undefined || installed.form === undefined || installed.webUsers === undefined || installed.serviceUser === undefined) return undefined;
  const { webUsers, serviceUser } = installed;
  if (![serviceUser, ...webUsers].every((u) => SUDOERS_NAME.test(u) && u !== 'ALL')) return undefined;
  return (['regex', 'wildcard'] as const).find((form) => renderSudoers(bridge, hop, serviceUser, webUsers, form) === text);
}
