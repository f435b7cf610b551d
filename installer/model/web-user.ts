/** Who dispatches: the user PHP runs as (facts/web-user.ts finds it). */

export interface WebUser {
  name: string;
  source: 'flag' | 'env' | 'php-fpm' | 'default';
  /** The pool file the name came from (source php-fpm). */
  pool?: string;
  /** Further distinct pool users, when pools run as more than one user. */
  others: string[];
}
