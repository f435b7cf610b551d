/**
 * Service definitions: one init-agnostic ServiceSpec per service, rendered
 * as a systemd unit or a launchd plist, and read back from what is installed
 * (adoption, and the operator's own lines that upgrade keeps). Pure.
 */
import path from 'node:path';
import type { InitSystem, ServiceSpec } from '../model/service.js';
import { RenderError } from '../model/errors.js';
import { renderTemplate } from './templates.js';
import { endsInOddBackslashes, splitWords, unitAssignments, unSpecifier } from './unit-syntax.js';
import { isDict, plistString, readPlistDict } from '../lib/plist.js';
import { insertPlistEntries, insertUnitLines, type OperatorLines } from './operator-lines.js';

export const INIT_SYSTEMS: readonly InitSystem[] = ['systemd', 'launchd', 'none'];

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
    environmentFile: spec.environmentFile === undefined ? null : systemdFile(spec.environmentFile, 'EnvironmentFile'),
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

/**
 * Read a systemd unit as systemd reads it (unit-syntax.ts: continuation
 * lines, comments, quotes, C escapes, `%%`): what it yields is what the
 * service runs with. Tolerant: unknown lines are ignored, and so is an
 * assignment systemd would ignore (unbalanced quotes).
 */
export function parseSystemdUnit(text: string): InstalledService {
  const out: InstalledService = { env: [] };
  // Environment= is a set: a later assignment of a key replaces its value in place; an empty one clears them all.
  const env = new Map<string, string>();
  for (const { section, key, value } of unitAssignments(text)) {
    if (section !== 'Service') continue;
    if (key === 'User') out.user = unSpecifier(value);
    else if (key === 'UMask') out.umask = value;
    else if (key === 'WorkingDirectory') out.workingDirectory = systemdPathValue(value);
    else if (key === 'ExecStartPre') {
      if (value === '') delete out.execStartPre;
      else (out.execStartPre ??= []).push(value);
    } else if (key === 'ExecStart') {
      const argv = value === '' ? undefined : execArgv(value);
      if (argv === undefined) delete out.argv;
      else out.argv = argv;
    } else if (key === 'Environment') {
      if (value === '') env.clear();
      for (const word of splitWords(value, false) ?? []) {
        const assignment = unSpecifier(word.value);
        const i = assignment.indexOf('=');
        if (i > 0) env.set(assignment.slice(0, i), assignment.slice(i + 1));
      }
    }
  }
  out.env = [...env];
  return out;
}

/** A path setting as systemd takes it: `%%` decoded, the optional-marker `-` dropped, the path simplified (no trailing slash). */
function systemdPathValue(value: string): string {
  const p = unSpecifier(value).replace(/^-/, '');
  return p.startsWith('/') ? path.posix.normalize(p).replace(/(.)\/$/, '$1') : p;
}

/**
 * ExecStart='s first command: specifiers first (systemd expands them on the
 * whole line), then words; the executable path keeps `$` as written, the
 * arguments' `$$` is a literal `$`. Prefixes (-, @, :, +, !) are dropped;
 * with `@` the second word is argv[0] and is not part of the command line.
 */
function execArgv(value: string): string[] | undefined {
  const words = splitWords(unSpecifier(value), true);
  if (!words || words.length === 0) return undefined;
  const end = words.findIndex((w) => w.raw === ';');
  const command = end < 0 ? words : words.slice(0, end);
  const first = command[0]?.value ?? '';
  const prefix = /^[-@:+!]*/.exec(first)?.[0] ?? '';
  const rest = command.slice(prefix.includes('@') ? 2 : 1).map((w) => w.value.replace(/\$\$/g, '$'));
  return [first.slice(prefix.length), ...rest];
}

/**
 * Read a launchd plist as launchd does (lib/plist.ts): its top-level
 * EnvironmentVariables, ProgramArguments, UserName and WorkingDirectory,
 * string values only. Tolerant: what is not a plist reads as nothing.
 */
export function parseLaunchdPlist(text: string): InstalledService {
  const out: InstalledService = { env: [] };
  const top = readPlistDict(text);
  if (!top) return out;
  const env = top['EnvironmentVariables'];
  if (isDict(env)) {
    for (const [key, value] of Object.entries(env)) {
      const s = plistString(value);
      if (s !== undefined) out.env.push([key, s]);
    }
  }
  const args = top['ProgramArguments'];
  if (Array.isArray(args)) out.argv = args.flatMap((a) => (typeof a === 'string' ? [a] : []));
  const user = plistString(top['UserName']);
  if (user !== undefined) out.user = user;
  const cwd = plistString(top['WorkingDirectory']);
  if (cwd !== undefined) out.workingDirectory = cwd;
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
  // The last entry wins, as in systemd and in a plist dict.
  const env = installed?.env ?? [];
  for (let i = env.length - 1; i >= 0; i--) if (env[i]?.[0] === key) return env[i]?.[1];
  return undefined;
}

// ---------------------------------------------------------------- escaping
//
// systemd.syntax(7) and systemd.exec(5), checked against systemd 252's own
// parse (test/integration/units.test.ts): a value is stripped of
// surrounding whitespace; a line ending in an odd run of backslashes joins
// the next line; `%` starts a specifier. User=, WorkingDirectory= and
// EnvironmentFile= take the rest of the line as written (no quotes, no
// escapes); Environment= and ExecStart= take C-quoted words.

const CONTROL = /[\u0000-\u001f\u007f]/;
// A lone surrogate has no UTF-8 form: written out it would become U+FFFD, another value.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function refuseControl(value: string, what: string): void {
  const c = CONTROL.exec(value)?.[0];
  if (c !== undefined) {
    throw new RenderError(`${what} ${JSON.stringify(value)} contains control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}, which a systemd unit cannot carry`);
  }
  if (LONE_SURROGATE.test(value)) throw new RenderError(`${what} ${JSON.stringify(value)} is not valid Unicode`);
}

/**
 * A setting systemd takes as written (User=, Description=): `%` doubled.
 * It cannot carry surrounding whitespace (stripped) nor an odd run of
 * trailing backslashes (it would join the next line; there is no escape
 * here): refused.
 */
function systemdValue(value: string, what: string): string {
  refuseControl(value, what);
  if (value !== value.trim()) throw new RenderError(`${what} ${JSON.stringify(value)} begins or ends with whitespace, which systemd strips from ${what}=`);
  if (endsInOddBackslashes(value)) {
    throw new RenderError(`${what} ${JSON.stringify(value)} ends in a backslash, which systemd reads as a continuation line in ${what}=`);
  }
  return value.replace(/%/g, '%%');
}

/**
 * WorkingDirectory=: as written, `%` doubled. systemd simplifies the path,
 * dropping a trailing slash, so a path ending in a backslash or in
 * whitespace is written with one: the line then ends in neither, and
 * systemd reads back the exact path.
 */
function systemdPath(value: string, what: string): string {
  refuseControl(value, what);
  if (!value.startsWith('/')) throw new RenderError(`${what} ${JSON.stringify(value)} is not an absolute path`);
  const guarded = /[\\\s]$/.test(value) ? `${value}/` : value;
  return guarded.replace(/%/g, '%%');
}

/** EnvironmentFile= (a leading `-`: optional): taken as written, not simplified, so no trailing slash can guard it. */
function systemdFile(value: string, what: string): string {
  if (!/^-?\//.test(value)) throw new RenderError(`${what} ${JSON.stringify(value)} is not an absolute path`);
  return systemdValue(value, what);
}

const NEEDS_QUOTES = /[\s"'\\;]/;

/** One word for Environment= / ExecStart=: double-quoted with `\\` and `\"` when it needs quoting (systemd C-unescapes it). */
function quoteWord(word: string): string {
  return NEEDS_QUOTES.test(word) || word === '' ? `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : word;
}

/** `Environment=K=V`: the whole assignment one word, quoted when V needs it; `%` doubled; no `$` expansion here. */
export function systemdEnvAssignment(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new RenderError(`invalid environment variable name ${JSON.stringify(key)}`);
  refuseControl(value, `Environment ${key}`);
  return quoteWord(`${key}=${value}`.replace(/%/g, '%%'));
}

/**
 * ExecStart= words. The executable path: `%` doubled; systemd refuses one
 * holding a backslash or a quote, and does not expand `$` in it (so `$$`
 * would stay two): those are refused. Arguments: `%` and `$` doubled (no
 * specifiers, no variable expansion), quoted where needed.
 */
export function systemdCommand(argv: readonly string[]): string {
  return argv.map((word, i) => {
    if (i === 0) {
      refuseControl(word, 'ExecStart command');
      const bad = /[\\"'$]/.exec(word)?.[0];
      if (bad !== undefined) throw new RenderError(`ExecStart command ${JSON.stringify(word)} contains ${JSON.stringify(bad)}, which systemd does not accept in an executable path`);
      if (!word.startsWith('/')) throw new RenderError(`ExecStart command ${JSON.stringify(word)} is not an absolute path`);
      return quoteWord(word.replace(/%/g, '%%'));
    }
    refuseControl(word, 'ExecStart argument');
    return quoteWord(word.replace(/%/g, '%%').replace(/\$/g, '$$$$'));
  }).join(' ');
}
