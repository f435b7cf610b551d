/** What doctor reports: one check per thing a dispatch depends on. */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  /** Stable id: `<area>` or `<area>.<subject>.<aspect>`, e.g. `channel.kimaki.data-dir`. */
  id: string;
  status: CheckStatus;
  message: string;
  /** One line: a command where one exists. */
  fix?: string;
}
