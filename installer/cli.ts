/**
 * The only module that knows about argv. yargs parses and validates; each
 * command then runs as a plain function on typed options; `main` is the one
 * error boundary and maps outcomes to exit codes.
 */
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { bridgeIds } from '../bridges/index.js';
import { applyPlan } from './apply.js';
import { planInstall } from './commands/install.js';
import { planUninstall } from './commands/uninstall.js';
import { planUpgrade } from './commands/upgrade.js';
import { ExitCode, UsageError, UserError } from './errors.js';
import { nodeHost, type Host } from './host.js';
import type { IdentityFlags } from './identity.js';
import type { Plan } from './plan.js';
import { reloadServices } from './services.js';
import { DISPATCH_MODES, type DispatchFlags, type DispatchMode } from './sudo-hop.js';
import { INIT_SYSTEMS, type InitSystem } from './units.js';
import { formatHuman, formatJson } from './report.js';
import { VERSION } from './version.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Builds the host view for a --root; tests may replace it. */
  host?(root: string, env: Readonly<Record<string, string | undefined>>): Host;
}

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
  binary?: string;
  // --dispatch and the sudo hop (sudo-hop.ts)
  dispatch?: DispatchMode;
  webUser?: string[];
  sudoRegex?: boolean;
}

type Parsed = GlobalArgs & IdentityArgs & { _: (string | number)[]; bridge?: string[] };

function withGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('root', {
      type: 'string',
      default: '/',
      describe: 'Resolve every path bridgectl reads or writes under DIR (paths written into files stay as the server sees them)',
      requiresArg: true,
    })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print a unified diff of what would change; write nothing' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document on stdout (see README for the schema)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print nothing but errors' });
}

function withSiteOption<T>(y: Argv<T>) {
  return y.option('site', { type: 'string', describe: 'WordPress root (the directory holding wp-content); env SITE_PATH', requiresArg: true });
}

function withIdentityOptions<T>(y: Argv<T>) {
  return withSiteOption(y)
    .option('service-user', { type: 'string', describe: 'User the bridge runs as; its home is pinned as HOME (env SERVICE_USER)', requiresArg: true })
    .option('run-as-root', { type: 'boolean', describe: 'The bridge runs as root; pins /root (env RUN_AS_ROOT=true)' })
    .option('data-dir', { type: 'string', describe: 'Bridge data dir (default <home>/.kimaki; env KIMAKI_DATA_DIR)', requiresArg: true })
    .option('binary', { type: 'string', describe: 'Absolute path of the bridge CLI (default: first found on the search path)', requiresArg: true })
    .option('init', { choices: INIT_SYSTEMS, describe: 'Service manager to write definitions for (default: installed one, else systemd; launchd on macOS)' })
    .option('reload', { type: 'boolean', default: true, describe: 'After writing units on the live host (--root /), run systemctl daemon-reload/enable; --no-reload skips' })
    .group(['site', 'service-user', 'run-as-root', 'data-dir', 'binary', 'init'], 'Identity:');
}

/** --dispatch and the sudo hop's options, on install and upgrade (docs/dispatch-modes.md). */
function withDispatchOptions<T>(y: Argv<T>) {
  return y
    .option('dispatch', {
      choices: DISPATCH_MODES,
      describe: 'Who runs the CLI: direct (as the web user) or sudo (as the service user, through a narrowed sudo grant); default: the installed mode, else direct',
    })
    .option('web-user', {
      type: 'string',
      array: true,
      describe: 'sudo mode: user(s) PHP runs as, granted the hop (repeatable; default: installed grant, env WEB_USER, www-data)',
      requiresArg: true,
    })
    .option('sudo-regex', {
      type: 'boolean',
      describe: "sudo mode: match the grant's argument with a sudoers regex (sudo >= 1.9.10); --no-sudo-regex: wildcards plus a negated entry (default: the installed form, else regex unless the live sudo predates 1.9.10)",
    })
    .group(['dispatch', 'web-user', 'sudo-regex'], 'Dispatch:');
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

function buildParser(argv: string[]) {
  const parser = withGlobalOptions(yargs(argv))
    .scriptName('bridgectl')
    .usage('$0 <command> [options]\n\nInstall and upgrade the WordPress mu-plugin config that lets a site dispatch messages to chat-bridge CLIs.')
    .command('install', 'Register bridges in the site\'s channels mu-plugin, pinning their service identity', (y) =>
      withDispatchOptions(withIdentityOptions(withBridgeOption(y)))
        .example('$0 install --bridge kimaki --site /var/www/html --service-user opencode', 'pin HOME=/home/opencode and KIMAKI_DATA_DIR for the kimaki channel')
        .example('$0 install --bridge kimaki --site /var/www/html --service-user opencode --dispatch sudo', 'dispatch as opencode through a narrowed sudo grant'),
    )
    .command('upgrade', 'Re-render every installed bridge block, keeping the installed identity', (y) =>
      withDispatchOptions(withIdentityOptions(y)).example('$0 upgrade --site /var/www/html', 'run on every deploy; a no-op when nothing changed'),
    )
    .command('uninstall', 'Remove exactly the named bridges\' blocks and service definitions', (y) =>
      withSiteOption(withBridgeOption(y))
        .option('service-user', { type: 'string', describe: 'Whose home holds launchd plists (systemd units need no hint)', requiresArg: true })
        .option('run-as-root', { type: 'boolean', describe: 'launchd plists are under /root' })
        .option('reload', { type: 'boolean', default: true, describe: 'Run systemctl daemon-reload after removing units on the live host' })
        .example('$0 uninstall --bridge kimaki --site /var/www/html', 'remove the kimaki channel'),
    )
    .demandCommand(1, 'name a command: install, upgrade or uninstall')
    .recommendCommands()
    .strict()
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(100)
    .epilogue('Exit codes: 0 ok, 1 failure (nothing written), 2 drift (check), 130 interrupted.')
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new UsageError(message);
    });
  return parser;
}

/** Run bridgectl; returns the exit code. Never throws, never exits the process. */
export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: Parsed;
  let output = '';
  try {
    parsed = (await buildParser(argv).parseAsync(argv, {}, (_err, _args, text) => {
      output = text;
    })) as unknown as Parsed;
  } catch (err) {
    return reportError(err, io);
  }
  if (output) {
    // --help or --version: yargs produced the text, we print it.
    io.stdout(output.endsWith('\n') ? output : `${output}\n`);
    return ExitCode.ok;
  }
  try {
    return await runCommand(String(parsed._[0]), parsed, io);
  } catch (err) {
    return reportError(err, io);
  }
}

async function runCommand(command: string, args: Parsed, io: Io): Promise<number> {
  const root = path.resolve(args.root);
  const host = (io.host ?? nodeHost)(root, io.env);
  const identity: IdentityFlags = pick(args);
  let plan: Plan;
  switch (command) {
    case 'install':
      plan = planInstall({ ...identity, bridges: args.bridge ?? [] }, host);
      break;
    case 'upgrade':
      plan = planUpgrade(identity, host);
      break;
    case 'uninstall':
      plan = planUninstall({ ...identity, bridges: args.bridge ?? [] }, host);
      break;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
  const report = { command, dryRun: args.dryRun };
  if (!args.dryRun) applyPlan(plan, root);
  if (args.json) io.stdout(formatJson(plan, report));
  else if (!args.quiet) io.stdout(formatHuman(plan, report));
  if (!args.dryRun && args.reload !== false) {
    const reload = await reloadServices(plan.changes, root, command === 'install');
    // Progress goes to stderr so --json keeps stdout to one document.
    for (const line of reload.ran) io.stderr(`ran: ${line}\n`);
  }
  return ExitCode.ok;
}

function pick(args: IdentityArgs): IdentityFlags {
  const flags: IdentityFlags = {};
  if (args.site !== undefined) flags.site = args.site;
  if (args.serviceUser !== undefined) flags.serviceUser = args.serviceUser;
  if (args.runAsRoot !== undefined) flags.runAsRoot = args.runAsRoot;
  if (args.dataDir !== undefined) flags.dataDir = args.dataDir;
  if (args.binary !== undefined) flags.binary = args.binary;
  if (args.init !== undefined) flags.init = args.init;
  const dispatch: DispatchFlags = {};
  if (args.dispatch !== undefined) dispatch.dispatch = args.dispatch;
  if (args.webUser !== undefined) dispatch.webUsers = args.webUser;
  if (args.sudoRegex !== undefined) dispatch.sudoRegex = args.sudoRegex;
  if (Object.keys(dispatch).length > 0) flags.dispatch = dispatch;
  return flags;
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof UserError) {
    io.stderr(`bridgectl: ${err.message}\n`);
    if (err.hint) io.stderr(`  fix: ${err.hint}\n`);
    if (err instanceof UsageError) io.stderr("  see 'bridgectl --help'\n");
    return ExitCode.failure;
  }
  const sys = err as NodeJS.ErrnoException;
  if (sys instanceof Error && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    // An OS refusal (EACCES, EROFS, ENOSPC…) is the operator's to fix, not a bug.
    io.stderr(`bridgectl: ${sys.syscall} ${sys.path ?? ''} failed: ${sys.code} (${sys.message})\n`);
    return ExitCode.failure;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr(`bridgectl: internal error — please report this with the command you ran\n${stack}\n`);
  return ExitCode.failure;
}
