/** What doctor diagnoses from: the facts, the site, the web user. Nothing live: the live probes run after (sudo-probe.ts). */
import type { Facts } from '../model/facts.js';
import type { WebUser } from '../model/web-user.js';

export interface DoctorInput {
  host: Facts;
  site: string;
  webUser: WebUser;
  /** Whether doctor runs as root (only then can it become each web user to try the grant); default: the facts' uid is 0. */
  isRoot?: boolean;
}
