/** How the channel reaches the CLI, as the operator asks for it (--dispatch and the sudo hop's options). */

export type DispatchMode = 'direct' | 'sudo';

/** How the grant matches the argument: a sudoers regex (sudo >= 1.9.10) or wildcards with a negated entry. */
export type GrantForm = 'regex' | 'wildcard';

export interface DispatchFlags {
  dispatch?: DispatchMode;
  /** Users allowed to take the hop (PHP-FPM's user, WP-cron's). */
  webUsers?: string[];
  /** Force the grant's form; default: what `sudo -V` says on the live host, else what is installed, else regex. */
  sudoRegex?: boolean;
}
