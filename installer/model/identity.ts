/** The adopted service identity and what it is resolved from (identity/ resolves it). */
import type { InitSystem } from './service.js';
import type { DispatchFlags } from './dispatch.js';

export interface IdentityFlags {
  init?: InitSystem;
  serviceUser?: string;
  runAsRoot?: boolean;
  dataDir?: string;
  /** The bridge's own CLI (`--binary PATH`): only meaningful with one bridge. */
  binary?: string;
  /** Executables by name (`--binary NAME=PATH`, `--curl PATH`), for any bridge in the run. */
  binaries?: Record<string, string>;
  site?: string;
  /** --allow-missing-binary: take a --binary that is not (yet) an executable file on the server. */
  allowMissingBinary?: boolean;
  /** --skip-wordpress-check: take --site even when it lacks wp-config.php or wp-includes/. */
  skipWordpressCheck?: boolean;
  /** The user PHP runs as (see web-user.ts). */
  webUser?: string;
  /** Bridges' credentials given as flags, by the flag that carries each (`--telegram-token`). */
  secrets?: Readonly<Record<string, string>>;
  /** --dispatch and the sudo hop's options (sudo-hop.ts); not part of the identity itself. */
  dispatch?: DispatchFlags;
}

/** Facts read back from what is installed. */
export interface Adopted {
  init?: InitSystem;
  user?: string;
  home?: string;
  dataDir?: string;
  /** Executables by name, from the units' ExecStart and the block's command. */
  binaries?: Record<string, string>;
}

export interface Identity {
  serviceUser: string;
  uid: number;
  gid: number;
  home: string;
  dataDir: string;
  /** The bridge's own CLI (= binaries[binaryName]). */
  binary: string;
  /** Every executable its services (and, once resolved, its channel) run, by name. */
  binaries: Record<string, string>;
  site: string;
  init: InitSystem;
}

export interface Resolution {
  identity: Identity;
  /** Where sources disagreed and which one won; shown in the plan, never silently merged. */
  notes: string[];
}
