/** What doctor diagnoses from: the facts, the site, the web user, and the live probes' results. */
import type { Facts } from '../model/facts.js';
import type { WebUser } from '../model/web-user.js';
import type { LintResult } from './sudo-probe.js';
import type { Runner } from '../model/process.js';

export type { LintResult } from './sudo-probe.js';

export interface DoctorInput {
  host: Facts;
  site: string;
  webUser: WebUser;
  /** `php -l` per managed PHP file (server path); 'unavailable' when there is no php on PATH. */
  lint: ReadonlyMap<string, LintResult> | 'unavailable';
  /** Starts the sudo probes' processes (visudo; sudo and setpriv on the live host); tests replace it. */
  run?: Runner;
  /** Whether doctor runs as root (only then can it become each web user to try the grant). */
  isRoot?: boolean;
}
