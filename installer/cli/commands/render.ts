import path from 'node:path';
import { planBridges } from '../../plan/engine.js';
import { ExitCode, UsageError } from '../../model/errors.js';
import type { Facts, PasswdEntry } from '../../model/facts.js';
import { factsOf, type PathAnswers } from '../../facts/snapshot.js';
import type { IdentityFlags } from '../../model/identity.js';
import type { Plan } from '../../model/plan.js';
import type { InitSystem } from '../../model/service.js';
import { applyPlan } from '../../apply/apply.js';
import { formatJson, formatListing, redact } from '../../report/report.js';
import { parseBinaries } from '../flags.js';
import { bridgeOption, dryRunOption, renderIdentityOptions, secretFlags } from '../options.js';
import type { CommandContext, CommandSpec } from '../types.js';

export interface RenderCommandOptions {
  bridges: string[];
  site?: string;
  serviceUser?: string;
  runAsRoot?: boolean;
  /** The service user's home; default /root, /home/<user> (systemd) or /Users/<user> (launchd). */
  home?: string;
  dataDir?: string;
  /** The bridge's own CLI (`--binary PATH`, one bridge only). */
  binary?: string;
  /** Executables by name (`--binary NAME=PATH`). */
  binaries?: Record<string, string>;
  /** Bridges' secrets by flag (telegram's bot token): the secret file is planned (reports omit its content). */
  secrets?: Readonly<Record<string, string>>;
  /** Default systemd, whatever machine renders. */
  init?: InitSystem;
}

/**
 * Everything `install` would write for the identity the flags describe,
 * without reading or writing the target: no adoption, no passwd, no stat.
 * The plan comes from the same engine as install, run against a Facts that
 * knows only the flags, so the bytes match what install writes for that
 * identity — on any machine, in any locale or time zone.
 */
export function planRender(options: RenderCommandOptions): Plan {
  if (options.serviceUser !== undefined && options.runAsRoot) {
    throw new UsageError('--service-user and --run-as-root contradict each other', 'pass one of them');
  }
  if (options.serviceUser === undefined && !options.runAsRoot) {
    throw new UsageError('render needs the service user: pass --service-user NAME or --run-as-root');
  }
  if (options.site === undefined) throw new UsageError('render needs --site (the WordPress root as the server sees it)');
  if (options.binary === undefined && options.binaries === undefined) throw new UsageError('render needs --binary (the bridge CLI\'s absolute path on the server)');
  // render reads nothing from the target, so it cannot see wp-config.php or the binaries: they are taken as the server will see them.
  const flags: IdentityFlags = { site: options.site, skipWordpressCheck: true, allowMissingBinary: true, init: options.init ?? 'systemd' };
  if (options.binary !== undefined) flags.binary = options.binary;
  if (options.binaries !== undefined) flags.binaries = options.binaries;
  if (options.serviceUser !== undefined) flags.serviceUser = options.serviceUser;
  if (options.runAsRoot) flags.runAsRoot = true;
  if (options.dataDir !== undefined) flags.dataDir = options.dataDir;
  if (options.secrets !== undefined) flags.secrets = options.secrets;
  // render writes files only: directories and owners are install's business (and no web user is resolved).
  const plan = planBridges(options.bridges, flags, flagsHost(options, flags.init ?? 'systemd'), { action: 'install', owners: false });
  return { ...plan, directories: [] };
}

/** Facts from the flags alone: a complete snapshot of a machine that holds the user, its home and the site, and no files. */
export function flagsHost(options: RenderCommandOptions, init: InitSystem): Facts {
  const name = options.runAsRoot ? 'root' : (options.serviceUser ?? '');
  const home = options.home ?? (options.runAsRoot ? '/root' : init === 'launchd' ? `/Users/${name}` : `/home/${name}`);
  if (!path.posix.isAbsolute(home)) throw new UsageError(`--home must be an absolute path, got ${JSON.stringify(home)}`);
  // Placeholder ids: render writes no owners, and the JSON report shows null for them.
  const uid = options.runAsRoot ? 0 : 1000;
  const user: PasswdEntry = { name, uid, gid: uid, home: path.posix.normalize(home), shell: '/bin/sh' };
  const dir: PathAnswers = { stat: { value: { kind: 'directory', uid, gid: uid, mode: 0o755, isDirectory: true } } };
  const known = [user.home, path.posix.normalize(options.site ?? '/').replace(/(.)\/$/, '$1')];
  return factsOf({
    root: '/',
    env: {},
    platform: 'linux',
    // render writes no owners, so who runs it changes nothing it prints.
    uid,
    gid: uid,
    complete: true,
    passwd: { value: [user] },
    group: { value: [] },
    paths: new Map(known.map((p) => [p, { ...dir, lstat: dir.stat } as PathAnswers])),
  });
}

/** render: identity from flags alone; the target is neither read nor written. */
async function runRender({ args, io }: CommandContext): Promise<number> {
  const secrets = secretFlags(args);
  const options = {
    bridges: args.bridge ?? [],
    ...(args.site !== undefined ? { site: args.site } : {}),
    ...(args.serviceUser !== undefined ? { serviceUser: args.serviceUser } : {}),
    ...(args.runAsRoot !== undefined ? { runAsRoot: args.runAsRoot } : {}),
    ...(args.home !== undefined ? { home: args.home } : {}),
    ...(args.dataDir !== undefined ? { dataDir: args.dataDir } : {}),
    ...parseBinaries(args.binary ?? []),
    ...(secrets !== undefined ? { secrets } : {}),
    ...(args.init !== undefined ? { init: args.init } : {}),
  };
  const plan = planRender(options);
  const site = Object.values(plan.identities)[0]?.site;
  const out = args.out === undefined ? undefined : path.resolve(args.out);
  if (out !== undefined && !args.dryRun) await applyPlan(plan, out);
  // Notes go to stderr with --json too (docs/json.md): the document holds them as well.
  if (!args.quiet) for (const note of plan.notes) io.stderr(redact(`note: ${note}\n`, plan.secrets));
  if (args.json) {
    io.stdout(formatJson({ command: 'render', exitCode: ExitCode.ok, dryRun: true, ...(site ? { site } : {}), plan, owners: false }));
  } else if (!args.quiet) {
    if (out === undefined) io.stdout(formatListing(plan));
    else io.stdout(plan.changes.map((c) => `${args.dryRun ? 'would write' : 'wrote'} ${path.join(out, c.path)}\n`).join(''));
  }
  return ExitCode.ok;
}

export const renderCommand: CommandSpec = {
  command: 'render',
  describe: 'Print every file install would write for an identity given by flags; reads nothing from the target',
  options: [
    bridgeOption,
    renderIdentityOptions,
    { options: { out: { type: 'string', describe: 'Write the files under DIR at their server paths instead of listing them', requiresArg: true } } },
    dryRunOption,
  ],
  examples: [
    ['$0 render --bridge kimaki --site /var/www/html --service-user opencode --binary /usr/local/bin/kimaki', "list each file after a '==> PATH <==' header"],
    ['$0 render --bridge kimaki --site /var/www/html --run-as-root --binary /usr/bin/kimaki --out build/', 'write build/etc/systemd/system/kimaki.service, …'],
  ],
  writes: false,
  flagsOnly: true,
  run: runRender,
};
