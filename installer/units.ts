/**
 * Service definitions: one init-agnostic ServiceSpec per service, rendered
 * as a systemd unit or a launchd plist, and read back from what is installed
 * (adoption, and the operator's own lines that upgrade keeps). Pure.
 */
import path from 'node:path';
import { RenderError } from './errors.js';
import { renderTemplate } from './templates.js';
import { xmlUnescape } from './xml.js';
import { insertPlistEntries, insertUnitLines, type OperatorLines } from './operator-lines.js';

export type InitSystem = 'systemd' | 'launchd' | 'none';
export const INIT_SYSTEMS: readonly InitSystem[] = ['systemd', 'launchd', 'none'];

export interface ServiceSpec {
  /** systemd unit file name, e.g. kimaki.service. */
  unit: string;
  /** launchd label, e.g. com.wp.kimaki. */
  label: string;
  description: string;
  /** Units this one starts after, besides network.target. */
  after: string[];
  requires: string[];
  user: string;
  workingDirectory: string;
  /** ExecStart / ProgramArguments. */
  argv: string[];
  /** Managed env, in render order, per init system (PATH differs between them). */
  systemdEnv: [string, string][];
  launchdEnv: [string, string][];
  /** systemd EnvironmentFile= value (a leading '-' means optional). */
  environmentFile?: string;
  /** launchd StandardOutPath / StandardErrorPath. */
  stdoutPath: string;
  stderrPath: string;
}

/** Where a service's definition lives, as the server sees it. */
export function serviceFile(init: Exclude<InitSystem, 'none'>, spec: Pick<ServiceSpec, 'unit' | 'label'>, home: string): string {
  return init === 'systemd'
    ? `/etc/systemd/system/${spec.unit}`
    : path.posix.join(home, 'Library/LaunchAgents', `${spec.label}.plist`);
}

/** What `upgrade` keeps from an installed definition besides what it manages. */
export interface KeptSettings {
  /** Environment entries whose keys bridgectl does not manage (an operator's token…), in file order. */
  env: [string, string][];
  /** systemd UMask= value. */
  umask?: string;
  /** systemd ExecStartPre= lines (the bash installer's post-upgrade hook), in file order: kept, never invented. */
  execStartPre?: string[];
  /** Every other line (plist key) of the installed file that bridgectl does not write: kept as written (operator-lines.ts). */
  operator?: OperatorLines;
}

export const NOTHING_KEPT: KeptSettings = { env: [] };

export function renderSystemdUnit(spec: ServiceSpec, kept: KeptSettings = NOTHING_KEPT): string {
  const text = renderTemplate('systemd/unit.service.hbs', {
    description: systemdValue(spec.description, 'Description'),
    after: ['network.target', ...spec.after].join(' '),
    requires: spec.requires.length ? spec.requires.join(' ') : null,
    user: systemdValue(spec.user, 'User'),
    workingDirectory: systemdPath(spec.workingDirectory, 'WorkingDirectory'),
    environment: [...spec.systemdEnv, ...kept.env].map(([k, v]) => systemdEnvAssignment(k, v)),
    umask: kept.umask ?? null,
    environmentFile: spec.environmentFile === undefined ? null : systemdPath(spec.environmentFile, 'EnvironmentFile'),
    execStartPre: kept.execStartPre ?? [],
    execStart: systemdCommand(spec.argv),
  });
  return kept.operator ? insertUnitLines(text, kept.operator) : text;
}

export function renderLaunchdPlist(spec: ServiceSpec, kept: KeptSettings = NOTHING_KEPT): string {
  const text = renderTemplate('launchd/agent.plist.hbs', {
    label: spec.label,
    argv: spec.argv,
    workingDirectory: spec.workingDirectory,
    stdoutPath: spec.stdoutPath,
    stderrPath: spec.stderrPath,
    environment: [...spec.launchdEnv, ...kept.env],
  });
  return kept.operator ? insertPlistEntries(text, kept.operator) : text;
}

export function renderService(init: Exclude<InitSystem, 'none'>, spec: ServiceSpec, kept?: KeptSettings): string {
  return init === 'systemd' ? renderSystemdUnit(spec, kept) : renderLaunchdPlist(spec, kept);
}

// ---------------------------------------------------------------- reading back

export interface InstalledService {
  user?: string;
  /** Every Environment= / EnvironmentVariables entry, in file order. */
  env: [string, string][];
  argv?: string[];
  umask?: string;
  /** Raw ExecStartPre= values, in file order (systemd runs every one). */
  execStartPre?: string[];
  /** WorkingDirectory: the site the service serves. */
  workingDirectory?: string;
  /** The operator's own lines, worked out against bridgectl's render (operator-lines.ts): kept. */
  operator?: OperatorLines;
}

/** Read a systemd unit we (or the bash installer) wrote. Tolerant: unknown lines are ignored. */
export function parseSystemdUnit(text: string): InstalledService {
  const out: InstalledService = { env: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq <= 0 || line.startsWith('#') || line.startsWith(';')) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'User') out.user = value;
    else if (key === 'UMask') out.umask = value;
    else if (key === 'WorkingDirectory') out.workingDirectory = value.replace(/%%/g, '%');
    else if (key === 'ExecStartPre') (out.execStartPre ??= []).push(value);
    else if (key === 'ExecStart') out.argv = splitSystemdWords(value).map((w) => w.replace(/\$\$/g, '$'));
    else if (key === 'Environment') {
      for (const word of splitSystemdWords(value)) {
        const i = word.indexOf('=');
        if (i > 0) out.env.push([word.slice(0, i), word.slice(i + 1)]);
      }
    }
  }
  return out;
}

/** Read a launchd plist in the shape we render (key/string pairs). */
export function parseLaunchdPlist(text: string): InstalledService {
  const out: InstalledService = { env: [] };
  const envDict = /<key>EnvironmentVariables<\/key>\s*<dict>([\s\S]*?)<\/dict>/.exec(text)?.[1] ?? '';
  for (const m of envDict.matchAll(/<key>([^<]*)<\/key>\s*<string>([^<]*)<\/string>/g)) {
    out.env.push([xmlUnescape(m[1] ?? ''), xmlUnescape(m[2] ?? '')]);
  }
  const args = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(text)?.[1];
  if (args !== undefined) out.argv = [...args.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => xmlUnescape(m[1] ?? ''));
  const user = /<key>UserName<\/key>\s*<string>([^<]*)<\/string>/.exec(text)?.[1];
  if (user !== undefined) out.user = xmlUnescape(user);
  const cwd = /<key>WorkingDirectory<\/key>\s*<string>([^<]*)<\/string>/.exec(text)?.[1];
  if (cwd !== undefined) out.workingDirectory = xmlUnescape(cwd);
  return out;
}

export function parseService(init: Exclude<InitSystem, 'none'>, text: string): InstalledService {
  return init === 'systemd' ? parseSystemdUnit(text) : parseLaunchdPlist(text);
}

/** Entries of an installed definition that bridgectl does not manage, so upgrade keeps them. */
export function keptSettings(installed: InstalledService | undefined, managedKeys: readonly string[]): KeptSettings {
  if (!installed) return NOTHING_KEPT;
  const kept: KeptSettings = { env: installed.env.filter(([k]) => !managedKeys.includes(k)) };
  if (installed.umask !== undefined) kept.umask = installed.umask;
  if (installed.execStartPre !== undefined) kept.execStartPre = installed.execStartPre;
  if (installed.operator !== undefined) kept.operator = installed.operator;
  return kept;
}

export function envOf(installed: InstalledService | undefined, key: string): string | undefined {
  return installed?.env.find(([k]) => k === key)?.[1];
}

// ---------------------------------------------------------------- escaping

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuseControl(value: string, what: string): void {
  if (CONTROL.test(value)) throw new RenderError(`${what} contains a control character: ${JSON.stringify(value)}`);
}

/** A plain setting value: `%` is a specifier in unit files, so it is doubled. */
function systemdValue(value: string, what: string): string {
  refuseControl(value, what);
  return value.replace(/%/g, '%%');
}

function systemdPath(value: string, what: string): string {
  if (/\s/.test(value)) throw new RenderError(`${what} ${JSON.stringify(value)} contains whitespace, which systemd does not accept here`);
  return systemdValue(value, what);
}

const NEEDS_QUOTES = /[\s"'\\;]/;

function quoteWord(word: string): string {
  return NEEDS_QUOTES.test(word) || word === '' ? `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : word;
}

/** `Environment=K=V`, quoted as one word when V needs it. */
export function systemdEnvAssignment(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new RenderError(`invalid environment variable name ${JSON.stringify(key)}`);
  return quoteWord(systemdValue(`${key}=${value}`, `Environment ${key}`));
}

/** ExecStart= words: `%` doubled, `$` doubled (no env expansion), quoted where needed. */
export function systemdCommand(argv: readonly string[]): string {
  return argv.map((word, i) => {
    const escaped = systemdValue(word, i === 0 ? 'ExecStart command' : 'ExecStart argument').replace(/\$/g, '$$$$');
    return quoteWord(escaped);
  }).join(' ');
}

/** Split a unit value into words the way systemd does for Environment= and ExecStart= (quotes, backslashes). */
export function splitSystemdWords(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i] ?? '')) i++;
    if (i >= value.length) break;
    let word = '';
    const quote = value[i] === '"' || value[i] === "'" ? value[i] : undefined;
    if (quote) i++;
    while (i < value.length) {
      const c = value[i] ?? '';
      if (quote ? c === quote : /\s/.test(c)) {
        i++;
        break;
      }
      if (c === '\\' && i + 1 < value.length) {
        word += value[i + 1];
        i += 2;
        continue;
      }
      word += c;
      i++;
    }
    words.push(word.replace(/%%/g, '%'));
  }
  return words;
}
