/**
 * The only module that knows about argv. yargs parses and validates; each
 * command then runs as a plain function on typed options; `main` is the one
 * error boundary and maps outcomes to exit codes.
 */
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { bridgeIds, bridges } from '../../bridges/index.js';
import { applyPlan } from '../apply/apply.js';
import { checkSite } from './commands/check.js';
import { runDoctor } from './commands/doctor.js';
import { formatChannelList, listChannels, planChannelRemove, planChannelSet } from './commands/channel.js';
import { planInstall } from './commands/install.js';
import { planRender } from './commands/render.js';
import { planUninstall } from './commands/uninstall.js';
import { planUpgrade } from './commands/upgrade.js';
import { doctorExitCode } from '../doctor/doctor.js';
import { ExitCode, hostError, IncompleteError, oneLine, serverPathOf, UsageError, UserError } from '../model/errors.js';
import { nodeHost } from '../facts/host.js';
import { gather } from '../facts/gather.js';
import { runMutation } from './mutate.js';
import type { Facts } from '../model/facts.js';
import { guardQuotes, refuseInvalidUtf8, type RawInput } from './input.js';
import { resolveSite } from '../identity/identity.js';
import { type IdentityFlags } from '../model/identity.js';
import { type Plan } from '../model/plan.js';
import { type ServiceEnv } from '../apply/services.js';
import { checkLockTimeout, withSafetyOptions, type SafetyArgs } from './safety.js';
import { DISPATCH_MODES } from '../plan/sudo-hop.js';
import { type DispatchFlags, type DispatchMode } from '../model/dispatch.js';
import { INIT_SYSTEMS } from '../render/units.js';
import { type InitSystem } from '../model/service.js';
import { formatCheck, formatDoctor, formatJson, formatListing } from '../report/report.js';
import { colorWanted, makeStyle, type Style } from '../report/style.js';
import { VERSION } from '../lib/version.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal: colour only then (and never with NO_COLOR). */
  isTTY?: boolean;
  /** Tests: inject a failure at a commit step (ApplyOptions.fault). */
  fault?: (step: string, serverPath: string) => void;
  /** Builds the host view for a --root; tests may replace it. */
  host?(root: string, env: Readonly<Record<string, string | undefined>>): Facts;
  /** The init system's commands (systemctl); tests replace them. */
  services?: ServiceEnv;
  /** The raw bytes of argv and the environment, to tell invalid UTF-8 from a real U+FFFD (input.ts). */
  raw?: RawInput;
}

/** Environment variables bridgectl reads as values: each must be valid UTF-8 (input.ts). */
const ENV_READ = [
  'SITE_PATH', 'SERVICE_USER', 'RUN_AS_ROOT', 'WEB_USER', 'HOME',
  ...bridges.flatMap((b) => [b.dataDir.env, b.secret?.env].filter((e): e is string => e !== undefined)),
];

interface GlobalArgs {
  root: string;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
}

interface IdentityArgs {
  init?: InitSystem;
  reload?: boolean;
  site?: string;
  serviceUser?: string;
  runAsRoot?: boolean;
  dataDir?: string;
  binary?: string[];
  curl?: string;
  /** Repeatable: the first is the web user (telegram's token group); sudo mode grants them all. */
  webUser?: string[];
  telegramToken?: string;
  // --dispatch and the sudo hop (sudo-hop.ts)
  dispatch?: DispatchMode;
  sudoRegex?: boolean;
}

interface ChannelArgs {
  name?: string;
  command?: string;
  arg?: string[];
  env?: string[];
  detach?: boolean;
  timeout?: number;
}

type Parsed = GlobalArgs &
  IdentityArgs &
  ChannelArgs &
  SafetyArgs & { _: (string | number)[]; bridge?: string[]; home?: string; out?: string };

/** The commands, in help order; `completion` is handled by yargs. */
export const COMMANDS = ['install', 'upgrade', 'uninstall', 'check', 'render', 'doctor', 'channel', 'completion'] as const;


function withGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('root', {
      type: 'string',
      default: '/',
      describe: 'Resolve every path bridgectl reads or writes under DIR (paths written into files stay as the server sees them)',
      requiresArg: true,
    })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print a unified diff of what would change; write nothing' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document on stdout, nothing else (schema: docs/json.md)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print nothing but errors (doctor: failed checks only)' });
}

function withSiteOption<T>(y: Argv<T>) {
  return y.option('site', { type: 'string', describe: 'WordPress root (the directory holding wp-content); env SITE_PATH', requiresArg: true });
}

function withIdentityOptions<T>(y: Argv<T>) {
  return withSiteOption(y)
    .option('service-user', { type: 'string', describe: 'User the bridge runs as; its home is pinned as HOME (env SERVICE_USER)', requiresArg: true })
    .option('run-as-root', { type: 'boolean', describe: 'The bridge runs as root; pins /root (env RUN_AS_ROOT=true)' })
    .option('data-dir', { type: 'string', describe: 'Bridge data dir, one bridge only (default <home>/.kimaki, <home>/.cc-connect; env KIMAKI_DATA_DIR, CC_DATA_DIR)', requiresArg: true })
    .option('binary', { type: 'string', array: true, describe: 'PATH of the bridge CLI (one bridge only), or NAME=PATH for any executable, e.g. opencode=/usr/bin/opencode (default: first found on the search path)', requiresArg: true })
    .option('curl', { type: 'string', describe: 'curl for the telegram channel (same as --binary curl=PATH)', requiresArg: true })
    .option('web-user', {
      type: 'string',
      array: true,
      describe: "User PHP runs as, repeatable: the first one's group reads the telegram token file; --dispatch sudo grants them all (default: env WEB_USER, else the PHP-FPM pools' users, else www-data)",
      requiresArg: true,
    })
    .option('telegram-token', { type: 'string', describe: 'Telegram bot token (visible in ps: prefer env TELEGRAM_BOT_TOKEN or the bot\'s .env)', requiresArg: true })
    .option('init', { choices: INIT_SYSTEMS, describe: 'Service manager to write definitions for (default: installed one, else systemd; launchd on macOS)' })
    .group(['site', 'service-user', 'run-as-root', 'data-dir', 'binary', 'curl', 'web-user', 'telegram-token', 'init'], 'Identity:');
}

function withReloadOption<T>(y: Argv<T>) {
  return y.option('reload', {
    type: 'boolean',
    default: true,
    describe:
      'On the live host (--root /) tell systemd: disable --now units before removing them; after writing, daemon-reload, enable new units (install), try-restart changed ones; reload PHP-FPM after a PHP file changed (OPcache); --no-reload skips and prints what to run',
  });
}

/** --dispatch and the sudo hop's options, on install and upgrade (docs/dispatch-modes.md). */
function withDispatchOptions<T>(y: Argv<T>) {
  return y
    .option('dispatch', {
      choices: DISPATCH_MODES,
      describe: 'Who runs the CLI: direct (as the web user) or sudo (as the service user, through a narrowed sudo grant); default: the installed mode, else direct',
    })
    .option('sudo-regex', {
      type: 'boolean',
      describe: "sudo mode: match the grant's argument with a sudoers regex (sudo >= 1.9.10); --no-sudo-regex: wildcards plus a negated entry (default: the installed form, else regex unless the live sudo predates 1.9.10)",
    })
    .group(['dispatch', 'sudo-regex'], 'Dispatch:');
}

function withBridgeOption<T>(y: Argv<T>) {
  return y.option('bridge', {
    type: 'string',
    array: true,
    choices: bridgeIds,
    demandOption: 'name the bridge with --bridge',
    describe: 'Bridge to act on (repeatable)',
    requiresArg: true,
  });
}

/** render's identity: flags only, no environment, no passwd, nothing read from the target. */
function withRenderOptions<T>(y: Argv<T>) {
  return y
    .option('site', { type: 'string', demandOption: 'pass --site: the WordPress root as the server sees it', describe: 'WordPress root on the server', requiresArg: true })
    .option('service-user', { type: 'string', describe: 'User the bridge runs as', requiresArg: true })
    .option('run-as-root', { type: 'boolean', describe: 'The bridge runs as root (HOME /root)' })
    .option('home', { type: 'string', describe: "The service user's home (default /root, /home/<user>, or /Users/<user> with --init launchd)", requiresArg: true })
    .option('data-dir', { type: 'string', describe: 'Bridge data dir (default <home>/.kimaki)', requiresArg: true })
    .option('binary', {
      type: 'string',
      array: true,
      demandOption: 'pass --binary: the bridge CLI as the server sees it',
      describe: 'Absolute PATH of the bridge CLI on the server (one bridge only), or NAME=PATH for any executable, e.g. opencode=/usr/bin/opencode; repeatable',
      requiresArg: true,
    })
    .option('telegram-token', {
      type: 'string',
      describe: 'Telegram bot token, for the telegram channel: the token file is listed with its content omitted (--out writes it)',
      requiresArg: true,
    })
    .option('init', { choices: INIT_SYSTEMS, describe: 'Service manager to render definitions for (default systemd, on any machine)' })
    .option('out', { type: 'string', describe: 'Write the files under DIR at their server paths instead of listing them', requiresArg: true })
    .group(['site', 'service-user', 'run-as-root', 'home', 'data-dir', 'binary', 'telegram-token', 'init'], 'Identity (from flags only):');
}

function buildParser(argv: string[]) {
  const parser = withSafetyOptions(withGlobalOptions(yargs(argv)))
    .scriptName('bridgectl')
    .usage('$0 <command> [options]\n\nInstall and upgrade the WordPress mu-plugin config that lets a site dispatch messages to chat-bridge CLIs.')
    .command('install', 'Register bridges in the site\'s channels mu-plugin, pinning their service identity', (y) =>
      withReloadOption(withDispatchOptions(withIdentityOptions(withBridgeOption(y))))
        .example('$0 install --bridge kimaki --site /var/www/html --service-user opencode', 'pin HOME=/home/opencode and KIMAKI_DATA_DIR for the kimaki channel')
        .example('$0 install --bridge kimaki --site /var/www/html --service-user opencode --dispatch sudo', 'dispatch as opencode through a narrowed sudo grant'),
    )
    .command('upgrade', 'Re-render every installed bridge block, keeping the installed identity', (y) =>
      withReloadOption(withDispatchOptions(withIdentityOptions(y))).example('$0 upgrade --site /var/www/html', 'run on every deploy; a no-op when nothing changed'),
    )
    .command('uninstall', 'Remove exactly the named bridges\' blocks and service definitions', (y) =>
      withSiteOption(withBridgeOption(y))
        .option('service-user', { type: 'string', describe: 'Whose home holds launchd plists (systemd units need no hint)', requiresArg: true })
        .option('run-as-root', { type: 'boolean', describe: 'launchd plists are under /root' })
        .option('reload', { type: 'boolean', default: true, describe: 'On the live host, systemctl disable --now each unit before removing it, then daemon-reload, and reload PHP-FPM (OPcache); --no-reload skips and prints what to run' })
        .example('$0 uninstall --bridge kimaki --site /var/www/html', 'remove the kimaki channel'),
    )
    .command('check', 'Compare the managed files with what upgrade would write; exit 2 and print a diff on drift', (y) =>
      withIdentityOptions(y)
        .example('$0 check --site /var/www/html', 'exit 0 in sync, 2 on drift (diff on stdout), 1 on error')
        .epilogue('Exit codes: 0 in sync, 1 error (e.g. damaged markers, nothing installed), 2 drift.'),
    )
    .command('render', 'Print every file install would write for an identity given by flags; reads nothing from the target', (y) =>
      withRenderOptions(withBridgeOption(y))
        .example(
          '$0 render --bridge kimaki --site /var/www/html --service-user opencode --binary /usr/local/bin/kimaki',
          "list each file after a '==> PATH <==' header",
        )
        .example('$0 render --bridge kimaki --site /var/www/html --run-as-root --binary /usr/bin/kimaki --out build/', 'write build/etc/systemd/system/kimaki.service, …'),
    )
    .command('doctor', 'Will a dispatch from WP-cron work? Check every path as the web user meets it', (y) =>
      withSiteOption(y)
        .option('web-user', { type: 'string', array: true, describe: 'User PHP runs WP-cron as (default: env WEB_USER, else the user of the PHP-FPM pools, else www-data)', requiresArg: true })
        .example('$0 doctor --site /var/www/html', 'check as the PHP-FPM pool user')
        .example('$0 doctor --site /var/www/html --web-user nginx --json', 'every check with id, status, message, fix')
        .epilogue('Exit codes: 0 no check failed (warnings allowed), 1 a check failed or doctor could not run.'),
    )
    .completion('__complete', false)
    .command(
      'completion',
      'Print a bash/zsh completion script',
      (y) => y.example('$0 completion >> ~/.bashrc', 'complete commands, options and bridge ids in bash'),
      () => {
        // The typings omit yargs' ($0, cmd) parameters; cmd names our command in the script's install hint.
        (parser as unknown as { showCompletionScript($0: string, cmd: string): void }).showCompletionScript('bridgectl', 'completion');
      },
    )
    .command('channel', 'Custom channels beside the bridge blocks: set, remove, list', (y) =>
      withSiteOption(y)
        .command('set <name>', 'Add or replace a custom channel (args starting with - need --arg=-x)', (c) =>
          c
            .positional('name', { type: 'string' })
            .option('command', { type: 'string', demandOption: 'name the executable with --command', describe: 'Absolute path of the executable', requiresArg: true })
            .option('arg', { type: 'string', array: true, default: [], describe: 'Argument, repeatable; {recipient} and {message} are substituted' })
            .option('env', { type: 'string', array: true, default: [], describe: 'K=V pinned for the child, repeatable' })
            .option('detach', { type: 'boolean', default: true, describe: 'Run detached; --no-detach waits for the exit status' })
            .option('timeout', { type: 'number', default: 600, describe: 'Seconds before the transport gives up' })
            .option('reload', { type: 'boolean', default: true, describe: 'On the live host, reload PHP-FPM after writing (OPcache); --no-reload prints what to run' }),
        )
        .command('remove <name>', 'Remove a custom channel', (c) =>
          c.positional('name', { type: 'string' }).option('reload', { type: 'boolean', default: true, describe: 'On the live host, reload PHP-FPM after writing (OPcache); --no-reload prints what to run' }),
        )
        .command('list', 'List the channels registered in the site\'s channels file')
        .demandCommand(1, 'name a channel command: set, remove or list')
        .example('$0 channel set notify --site /var/www/html --command /usr/local/bin/notify --arg {recipient} --arg {message}', 'register a custom CLI')
        .example('$0 channel list --site /var/www/html', 'every channel in the channels file'),
    )
    .demandCommand(1, `name a command: ${COMMANDS.join(', ')}`)
    .recommendCommands()
    .strict()
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(null)
    .epilogue('Exit codes: 0 ok, 1 failure (nothing written unless the message says so; doctor: a check failed), 2 drift (check), 3 commit incomplete (the message names the files written), 130 interrupted.')
    .exitProcess(false)
    .fail((message, err) => {
      // yargs' own parse errors (YError: an option without its value) are the operator's mistake, not a bug.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(usageMessage(err?.message ?? message));
    });
  return parser;
}

/** yargs' wording, said as the option the operator typed. */
function usageMessage(message: string): string {
  const missing = /^Not enough arguments following: (.+)$/.exec(message)?.[1];
  return missing === undefined ? message : `${missing.length === 1 ? '-' : '--'}${missing} needs a value`;
}

/** Run bridgectl; returns the exit code. Never throws, never exits the process. */
export async function main(rawArgv: string[], io: Io): Promise<number> {
  // Known before parsing, so even a usage error keeps --json's promise of one document on stdout.
  const json = rawArgv.includes('--json');
  const command = rawArgv.find((a) => COMMANDS.includes(a as (typeof COMMANDS)[number])) ?? '';
  let parsed: Parsed;
  let output = '';
  const argv = guardQuotes(rawArgv);
  try {
    refuseInvalidUtf8(rawArgv, io.env, ENV_READ, io.raw);
    parsed = (await buildParser(argv).parseAsync(argv, {}, (_err, _args, text) => {
      output = text;
    })) as unknown as Parsed;
  } catch (err) {
    return reportError(err, io, json ? command : undefined);
  }
  if (output) {
    // --help, --version or completion: yargs produced the text, we print it.
    io.stdout(output.endsWith('\n') ? output : `${output}\n`);
    return ExitCode.ok;
  }
  try {
    return await runCommand(String(parsed._[0]), parsed, io);
  } catch (err) {
    return reportError(err, io, json ? command : undefined, path.resolve(parsed.root ?? '/'));
  }
}

async function runCommand(command: string, args: Parsed, io: Io): Promise<number> {
  const style = makeStyle(colorWanted(io.isTTY, io.env));
  if (command === 'render') return runRender(args, io);
  if (args.lockTimeout !== undefined) checkLockTimeout(args.lockTimeout);
  const root = path.resolve(args.root);
  const host = (io.host ?? nodeHost)(root, io.env);
  const identity: IdentityFlags = pick(args);
  switch (command) {
    case 'check':
      return runCheck(identity, host, args, io, style);
    case 'doctor':
      return runDoctorCommand(args, host, io, style);
    case 'channel':
      if (args._[1] === 'list') {
        if (!args.quiet || args.json) io.stdout(formatChannelList(gather(host, (facts) => listChannels(identity, facts)).value, args.json));
        return ExitCode.ok;
      }
  }
  return runMutation(command, args, identity, io, style, host, (facts) => planMutation(command, args, identity, facts));
}

/** The plan of a command that may write: install, upgrade, uninstall, channel set/remove. */
function planMutation(command: string, args: Parsed, identity: IdentityFlags, host: Facts): Plan {
  switch (command) {
    case 'install':
      return planInstall({ ...identity, bridges: args.bridge ?? [] }, host);
    case 'upgrade':
      return planUpgrade(identity, host);
    case 'uninstall':
      return planUninstall({ ...identity, bridges: args.bridge ?? [] }, host);
    case 'channel': {
      const name = args.name ?? '';
      return args._[1] === 'set'
        ? planChannelSet({ ...identity, name, command: args.command ?? '', args: args.arg ?? [], env: args.env ?? [], detach: args.detach !== false, timeout: args.timeout ?? NaN }, host)
        : planChannelRemove({ ...identity, name }, host);
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** check: upgrade's plan, never applied. 0 in sync, 2 drift. */
function runCheck(identity: IdentityFlags, host: Facts, args: Parsed, io: Io, style: Style): number {
  const { site, plan, drift } = gather(host, (facts) => ({ site: resolveSite(identity, facts), ...checkSite(identity, facts) })).value;
  const code = drift.length ? ExitCode.drift : ExitCode.ok;
  if (args.json) {
    io.stdout(formatJson({ command: 'check', exitCode: code, dryRun: true, site, plan }));
  } else if (!args.quiet) {
    for (const note of plan.notes) io.stderr(`note: ${note}\n`);
    io.stdout(formatCheck(drift, plan.changes.length, style, plan.secrets));
  }
  return code;
}

/** render: identity from flags alone; the target is neither read nor written. */
function runRender(args: Parsed, io: Io): number {
  const options = {
    bridges: args.bridge ?? [],
    ...(args.site !== undefined ? { site: args.site } : {}),
    ...(args.serviceUser !== undefined ? { serviceUser: args.serviceUser } : {}),
    ...(args.runAsRoot !== undefined ? { runAsRoot: args.runAsRoot } : {}),
    ...(args.home !== undefined ? { home: args.home } : {}),
    ...(args.dataDir !== undefined ? { dataDir: args.dataDir } : {}),
    ...parseBinaries(args.binary ?? []),
    ...(args.telegramToken !== undefined ? { telegramToken: args.telegramToken } : {}),
    ...(args.init !== undefined ? { init: args.init } : {}),
  };
  const plan = planRender(options);
  const site = Object.values(plan.identities)[0]?.site;
  const out = args.out === undefined ? undefined : path.resolve(args.out);
  if (out !== undefined && !args.dryRun) applyPlan(plan, out);
  if (args.json) {
    io.stdout(formatJson({ command: 'render', exitCode: ExitCode.ok, dryRun: true, ...(site ? { site } : {}), plan, owners: false }));
  } else if (!args.quiet) {
    for (const note of plan.notes) io.stderr(`note: ${note}\n`);
    if (out === undefined) io.stdout(formatListing(plan));
    else io.stdout(plan.changes.map((c) => `${args.dryRun ? 'would write' : 'wrote'} ${path.join(out, c.path)}\n`).join(''));
  }
  return ExitCode.ok;
}

function runDoctorCommand(args: Parsed, host: Facts, io: Io, style: Style): number {
  const [webUser, ...more] = args.webUser ?? [];
  if (more.length) throw new UsageError('doctor checks one web user at a time: run it once per --web-user');
  const options = {
    ...(args.site !== undefined ? { site: args.site } : {}),
    ...(webUser !== undefined ? { webUser } : {}),
  };
  const report = runDoctor(options, host);
  const code = doctorExitCode(report.checks);
  if (args.json) {
    io.stdout(formatJson({ command: 'doctor', exitCode: code, dryRun: true, site: report.site, webUser: report.webUser, checks: report.checks }));
  } else {
    const text = formatDoctor(report.checks, report.webUser, style, args.quiet);
    // quiet: failures go to stderr, like every other error.
    if (args.quiet) io.stderr(text);
    else io.stdout(text);
  }
  return code;
}

function pick(args: IdentityArgs): IdentityFlags {
  const flags: IdentityFlags = {};
  if (args.site !== undefined) flags.site = args.site;
  if (args.serviceUser !== undefined) flags.serviceUser = args.serviceUser;
  if (args.runAsRoot !== undefined) flags.runAsRoot = args.runAsRoot;
  if (args.dataDir !== undefined) flags.dataDir = args.dataDir;
  if (args.init !== undefined) flags.init = args.init;
  if (args.webUser?.[0] !== undefined) flags.webUser = args.webUser[0];
  if (args.telegramToken !== undefined) flags.telegramToken = args.telegramToken;
  Object.assign(flags, parseBinaries(args.binary ?? [], args.curl));
  const dispatch: DispatchFlags = {};
  if (args.dispatch !== undefined) dispatch.dispatch = args.dispatch;
  if (args.webUser !== undefined) dispatch.webUsers = args.webUser;
  if (args.sudoRegex !== undefined) dispatch.sudoRegex = args.sudoRegex;
  if (Object.keys(dispatch).length > 0) flags.dispatch = dispatch;
  return flags;
}

/** --binary PATH is the bridge's own CLI; --binary NAME=PATH (and --curl) any executable. install's family and render alike. */
function parseBinaries(values: readonly string[], curl?: string): Pick<IdentityFlags, 'binary' | 'binaries'> {
  const flags: Pick<IdentityFlags, 'binary' | 'binaries'> = {};
  const binaries: Record<string, string> = {};
  for (const value of values) {
    const named = /^([A-Za-z0-9][\w.+-]*)=(.*)$/.exec(value);
    if (named) binaries[named[1] as string] = named[2] as string;
    else if (flags.binary === undefined) flags.binary = value;
    else throw new UsageError('--binary PATH given twice', 'name the others: --binary NAME=PATH');
  }
  if (curl !== undefined) binaries.curl = curl;
  if (Object.keys(binaries).length > 0) flags.binaries = binaries;
  return flags;
}

function reportError(caught: unknown, io: Io, jsonCommand?: string, root = '/'): number {
  const sys = caught as NodeJS.ErrnoException | null | undefined;
  // An OS refusal (EACCES, EROFS, ENOSPC…) is the operator's to fix, not a bug: one line naming the
  // server path (never a sandbox's host path or a temp file's name).
  const err =
    !(caught instanceof UserError) && typeof sys?.code === 'string' && typeof sys.syscall === 'string'
      ? hostError(caught, sys.syscall, sys.path ? serverPathOf(sys.path, root) : '(a file it had open)')
      : caught;
  const code = err instanceof IncompleteError ? ExitCode.incomplete : ExitCode.failure;
  if (jsonCommand !== undefined) {
    const error = err instanceof UserError ? { message: oneLine(err.message), ...(err.hint ? { fix: oneLine(err.hint) } : {}) } : { message: err instanceof Error ? err.message : String(err) };
    io.stdout(formatJson({ command: jsonCommand, exitCode: code, dryRun: true, error }));
  }
  if (err instanceof UserError) {
    io.stderr(`bridgectl: ${oneLine(err.message)}\n`);
    if (err.hint) io.stderr(`  fix: ${oneLine(err.hint)}\n`);
    if (err instanceof UsageError) io.stderr("  see 'bridgectl --help'\n");
    return code;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr(`bridgectl: internal error — please report this with the command you ran\n${stack}\n`);
  return ExitCode.failure;
}
