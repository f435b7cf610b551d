/** argv -> IdentityFlags: the identity options as the identity room wants them. */
import { UsageError } from '../model/errors.js';
import type { DispatchFlags } from '../model/dispatch.js';
import type { IdentityFlags } from '../model/identity.js';
import { secretFlags } from './options.js';
import type { IdentityArgs } from './types.js';

export function pick(args: IdentityArgs): IdentityFlags {
  const flags: IdentityFlags = {};
  if (args.site !== undefined) flags.site = args.site;
  if (args.skipWordpressCheck === true) flags.skipWordpressCheck = true;
  if (args.allowMissingBinary === true) flags.allowMissingBinary = true;
  if (args.serviceUser !== undefined) flags.serviceUser = args.serviceUser;
  if (args.runAsRoot !== undefined) flags.runAsRoot = args.runAsRoot;
  if (args.dataDir !== undefined) flags.dataDir = args.dataDir;
  if (args.init !== undefined) flags.init = args.init;
  if (args.webUser?.[0] !== undefined) flags.webUser = args.webUser[0];
  const secrets = secretFlags(args);
  if (secrets !== undefined) flags.secrets = secrets;
  Object.assign(flags, parseBinaries(args.binary ?? [], args.curl));
  const dispatch: DispatchFlags = {};
  if (args.dispatch !== undefined) dispatch.dispatch = args.dispatch;
  if (args.webUser !== undefined) dispatch.webUsers = args.webUser;
  if (args.sudoRegex !== undefined) dispatch.sudoRegex = args.sudoRegex;
  if (Object.keys(dispatch).length > 0) flags.dispatch = dispatch;
  return flags;
}

/** --binary PATH is the bridge's own CLI; --binary NAME=PATH (and --curl) any executable. install's family and render alike. */
export function parseBinaries(values: readonly string[], curl?: string): Pick<IdentityFlags, 'binary' | 'binaries'> {
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
