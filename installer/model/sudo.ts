/** The `sudo` dispatch mode, as a bridge declares it (render/sudo-hop.ts renders it, plan/sudo-hop.ts plans it). */
import type { Identity } from './identity.js';

/** What a bridge declares to support `--dispatch sudo`. */
export interface SudoHopSpec {
  /** The one subcommand the hop carries: the target accepts exactly `<subcommand> <recipient>`. */
  subcommand: string;
  recipient: {
    /**
     * Bracket-expression bodies for the first and every following character
     * (e.g. '0-9', 'A-Za-z0-9_.-'). One definition feeds the sudoers regex or
     * wildcards, the scripts' `case` patterns and bridgectl's own check.
     */
    first: string;
    rest: string;
    /** For error messages: "a Discord channel id (digits only)". */
    what: string;
    /** A valid recipient, for doctor's live probe. */
    sample: string;
  };
  /**
   * The real CLI's argv after the binary; {recipient} and {message} are
   * substituted. A function when it depends on the identity (cc-connect's
   * `--data-dir`); it stays pure.
   */
  cli: readonly string[] | ((identity: Identity) => readonly string[]);
}

export interface HopPaths {
  target: string;
  wrapper: string;
  sudoers: string;
}
