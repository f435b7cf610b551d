/**
 * The options commands share, as data: each command lists the sets it takes
 * (commands/*.ts), and parser.ts hands them to yargs in that order. What a
 * bridge adds (its secret's flag, its data dir's variable) comes from the
 * bridge registry, so a new bridge needs no edit here.
 */
import type { Options } from 'yargs';
import { bridgeIds, bridges } from '../../bridges/index.js';
import type { SecretSpec } from '../model/bridge.js';
import { DISPATCH_MODES } from '../plan/sudo-hop.js';
import { INIT_SYSTEMS } from '../render/units.js';
import type { OptionSet } from './types.js';
import { UsageError } from '../model/errors.js';

/** The bridges' secrets, each with the yargs key its flag parses to (--telegram-token: 'telegram-token'). */
export const SECRETS: readonly { spec: SecretSpec; key: string }[] = bridges.flatMap((b) => (b.secret ? [{ spec: b.secret, key: b.secret.flag.replace(/^--/, '') }] : []));

const string = (describe: string): Options => ({ type: 'string', describe, requiresArg: true });

const dataDirDefaults = bridges.filter((b) => b.dataDir.env !== undefined);
/** Bridges whose channel runs curl (--curl), and the secrets kept in files the web user's group reads. */
const curlBridges = bridges.filter((b) => b.channelBinary === 'curl').map((b) => b.id);
const secretLabels = bridges.flatMap((b) => (b.secret ? [b.secret.label] : []));

/** --dry-run: on every command that may write (parser.ts adds it), and render, whose --out writes. */
export const dryRunOption: OptionSet = {
  options: { 'dry-run': { type: 'boolean', default: false, describe: 'Print a unified diff of what would change; write nothing' } },
};

/**
 * A number of seconds, 0 or more, refused while parsing with the option's
 * name and the word typed (yargs alone turns "abc" into NaN).
 */
export function seconds(flag: string, describe: string, fallback: number, whole = false): Options {
  return {
    type: 'number',
    default: fallback,
    describe,
    requiresArg: true,
    coerce: (value: unknown) => {
      const n = typeof value === 'number' ? value : Number(value);
      if (Number.isFinite(n) && n >= 0 && (!whole || Number.isSafeInteger(n))) return n;
      const got = typeof value === 'number' && Number.isNaN(value) ? 'not a number' : `got ${String(value)}`;
      const message = `--${flag} takes a${whole ? ' whole' : ''} number of seconds, 0 or more (${got})`;
      // yargs keeps only a coerce error's message (it rethrows it as its own YError): parser.ts finds the fix here.
      FIXES.set(message, `e.g. --${flag} ${fallback}${flag === 'lock-timeout' ? ', or --lock-timeout 0 to fail at once when another run holds the lock' : ''}`);
      throw new UsageError(message);
    },
  };
}

const FIXES = new Map<string, string>();

/** The fix for a refusal an option's coerce function made, by its message. */
export function fixFor(message: string): string | undefined {
  return FIXES.get(message);
}

export const siteOption: OptionSet = {
  options: {
    site: string('WordPress root (the directory holding wp-config.php and wp-includes/); env SITE_PATH; default: the nearest one at or above the current directory'),
    'skip-wordpress-check': { type: 'boolean', describe: 'Take --site even without wp-config.php (there or one directory up) and wp-includes/, for an unusual layout' },
  },
};

/** --binary's (and channel set's --command's) override, declared once. */
export const allowMissingBinaryOption: OptionSet = {
  options: {
    'allow-missing-binary': { type: 'boolean', describe: 'Take an executable (--binary, --curl, channel set --command) that does not exist on the server yet' },
  },
};

/** Who runs the bridge and where its files are: install, upgrade, check. */
export const identityOptions: OptionSet = {
  group: 'Identity:',
  options: {
    ...siteOption.options,
    'service-user': string('User the bridge runs as; its home is pinned as HOME (env SERVICE_USER)'),
    'run-as-root': { type: 'boolean', describe: 'The bridge runs as root; pins /root (env RUN_AS_ROOT=true)' },
    'data-dir': string(
      `Bridge data dir, one bridge only (default ${dataDirDefaults.map((b) => `<home>/${b.dataDir.underHome}`).join(', ')}; env ${dataDirDefaults.map((b) => b.dataDir.env).join(', ')})`,
    ),
    binary: {
      type: 'string',
      array: true,
      describe: 'PATH of the bridge CLI (one bridge only), or NAME=PATH for any executable, e.g. opencode=/usr/bin/opencode (default: first found on the search path)',
      requiresArg: true,
    },
    curl: string(`curl for the ${curlBridges.join(', ')} channel (same as --binary curl=PATH)`),
    ...allowMissingBinaryOption.options,
    'web-user': {
      type: 'string',
      array: true,
      describe: `User PHP runs as, repeatable: the first one's group reads the secret files (${secretLabels.join(', ')}); --dispatch sudo grants them all (default: env WEB_USER, else the PHP-FPM pools' users, else www-data)`,
      requiresArg: true,
    },
    ...Object.fromEntries(SECRETS.map((s) => [s.key, string(s.spec.describe)])),
    init: { choices: INIT_SYSTEMS, describe: 'Service manager to write definitions for (default: installed one, else systemd; launchd on macOS)' },
  },
};

export const reloadOption: OptionSet = {
  options: {
    reload: {
      type: 'boolean',
      default: true,
      describe:
        'On the live host (--root /) tell systemd: disable --now units before removing them; after writing, daemon-reload, enable new units (install), try-restart changed ones; reload PHP-FPM after a PHP file changed (OPcache); --no-reload skips and prints what to run',
    },
  },
};

/** --dispatch and the sudo hop's options, on install and upgrade (docs/dispatch-modes.md). */
export const dispatchOptions: OptionSet = {
  group: 'Dispatch:',
  options: {
    dispatch: {
      choices: DISPATCH_MODES,
      describe: 'Who runs the CLI: direct (as the web user) or sudo (as the service user, through a narrowed sudo grant); default: the installed mode, else direct',
    },
    'sudo-regex': {
      type: 'boolean',
      describe: "sudo mode: match the grant's argument with a sudoers regex (sudo >= 1.9.10); --no-sudo-regex: wildcards plus a negated entry (default: the installed form, else regex unless the live sudo predates 1.9.10)",
    },
  },
};

export const bridgeOption: OptionSet = {
  options: {
    bridge: {
      type: 'string',
      array: true,
      choices: bridgeIds,
      demandOption: 'name the bridge with --bridge',
      describe: 'Bridge to act on (repeatable)',
      requiresArg: true,
    },
  },
};

/** render's identity: flags only, no environment, no passwd, nothing read from the target. */
export const renderIdentityOptions: OptionSet = {
  group: 'Identity (from flags only):',
  options: {
    site: { type: 'string', demandOption: 'pass --site: the WordPress root as the server sees it', describe: 'WordPress root on the server', requiresArg: true },
    'service-user': string('User the bridge runs as'),
    'run-as-root': { type: 'boolean', describe: 'The bridge runs as root (HOME /root)' },
    home: string("The service user's home (default /root, /home/<user>, or /Users/<user> with --init launchd)"),
    'data-dir': string('Bridge data dir (default <home>/.kimaki)'),
    binary: {
      type: 'string',
      array: true,
      demandOption: 'pass --binary: the bridge CLI as the server sees it',
      describe: 'Absolute PATH of the bridge CLI on the server (one bridge only), or NAME=PATH for any executable, e.g. opencode=/usr/bin/opencode; repeatable',
      requiresArg: true,
    },
    ...Object.fromEntries(SECRETS.map((s) => [s.key, string(s.spec.describeForRender)])),
    init: { choices: INIT_SYSTEMS, describe: 'Service manager to render definitions for (default systemd, on any machine)' },
  },
};

/** The secrets given as flags, keyed by flag as IdentityFlags wants them; undefined when none was. */
export function secretFlags(args: object): Record<string, string> | undefined {
  const given = SECRETS.flatMap((s) => {
    const value = (args as Record<string, unknown>)[s.key];
    return typeof value === 'string' ? [[s.spec.flag, value] as const] : [];
  });
  return given.length > 0 ? Object.fromEntries(given) : undefined;
}
