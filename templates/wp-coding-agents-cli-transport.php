<?php
/**
 * Plugin Name: wp-coding-agents — CLI dispatch transport
 * Description: Delivers agents/dispatch-message to chat-bridge CLIs registered
 *              as channels. Managed by bridgectl: installed and replaced as a
 *              whole file, so local edits are lost on upgrade. Configure
 *              channels through the channels mu-plugin instead.
 *
 * Channels
 *   Read on every claim and dispatch from two filters, each seeded with
 *   get_option(<filter name>, []) when get_option exists:
 *     wp_coding_agents_cli_channels  the registry bridgectl's channels file feeds
 *     datamachine_code_cli_channels  the legacy registry older installs fed
 *   When both define a valid entry with the same name, the registry wins.
 *   Invalid entries are ignored as if absent, so an invalid registry entry
 *   does not hide a valid legacy one. Names must be non-empty strings.
 *
 *   An entry:
 *     'command' => non-empty string: absolute path, or a name looked up on PATH
 *     'args'    => list of strings; {recipient} {message} {conversation_id}
 *                  {channel} are substituted in each (default [])
 *     'detach'  => bool (default true)
 *     'timeout' => int seconds >= 0, synchronous channels only; 0 = no limit
 *                  (default 60)
 *     'env'     => map of variable name => string|int|float|bool, laid over
 *                  the built environment (bools become '1' / '0')
 *     'cwd'     => non-empty string, the child's working directory (default:
 *                  the pinned HOME, see Process)
 *     'settle'  => int|float seconds, 0 to 30, detached channels only: the
 *                  early-exit window (default 1)
 *     'inherit_env' => list of variable names passed on from the PHP
 *                  process when set there (default []); never a request
 *                  header (HTTP_*) or a FastCGI/CGI parameter
 *   A key that is present must be valid: an env map with a non-string key,
 *   a name containing '=', or a non-scalar value invalidates the whole
 *   entry rather than being half-applied, because dropping one pair could
 *   silently drop a HOME pin. Values containing NUL invalidate it too.
 *
 * Environment
 *   Built, not inherited: under php-fpm getenv() holds the FastCGI
 *   parameters and the requester's headers (HTTP_PROXY, HTTP_COOKIE,
 *   HTTP_AUTHORIZATION), none of which may reach the CLI. The child gets,
 *   later wins:
 *     PATH    the CLI's own directory, then /usr/local/bin:/usr/bin:/bin
 *             (the directories bridgectl's units end with)
 *     HOME    the inherited one, only if it is a directory this PHP process
 *             can write (else the CLI falls back to its account default
 *             instead of failing on the web user's HOME under WP-cron)
 *     LANG, LC_*, TZ when the PHP process has them
 *     the variables the channel names in inherit_env, when set
 *     the channel's env pins (a pinned PATH or HOME is passed as pinned)
 *   Nothing else. PHP itself never passes a variable whose value is empty.
 *
 * Process
 *   argv goes to proc_open as an array, never through a shell: every
 *   argument reaches the CLI as one argument, byte for byte. A message
 *   over 64 KiB (the sudo hop's limit) or any input with a NUL byte is
 *   refused before anything is spawned, in every mode.
 *   Working directory: the channel's cwd; else its pinned HOME (a CLI that
 *   writes ./tmp must not write into the site root, PHP's cwd under
 *   WP-cron); else PHP's own. A pinned HOME this process cannot enter is
 *   skipped (PHP's chdir would fail silently there anyway).
 *   Detached channels are started through a small sh intermediate that
 *   forks a watcher and exits at once; PHP reaps it, so the PHP worker
 *   never keeps a child: the watcher and the CLI belong to init. The
 *   watcher runs the CLI with /dev/null on stdin and stdout, stderr in a
 *   temp file, in a new session through a setsid executable when PATH or
 *   a system directory has one (proc_open has no POSIX option for it).
 *   dispatch reads the watcher's report for the settle window only,
 *   returning as soon as the CLI exits: a non-zero exit within the window
 *   is exit_nonzero with the code and the tail of stderr; a CLI still
 *   running when the window ends is sent, with its pid. The watcher reaps
 *   the CLI and removes the temp file when it exits (stderr written after
 *   the window goes to that file until then).
 *   Synchronous channels: stdout and stderr are captured, each kept up to
 *   64 KiB (the rest is read and discarded so the CLI never blocks); past
 *   the timeout the CLI gets SIGTERM, then SIGKILL 2 seconds later.
 *   The command and cwd are checked before spawning, so a missing CLI is
 *   reported as such (older PHP forks first and would only see exit 127).
 *   Under open_basedir PHP cannot see outside the allowed tree: then
 *   nothing is checked, no setsid is used, and an inherited HOME outside
 *   the tree is dropped.
 *
 * Error codes (WP_Error::get_error_code())
 *   wp_coding_agents_cli_missing_input    channel or message absent or empty
 *   wp_coding_agents_cli_invalid_input    an input value that cannot become an
 *                                         argument (not a string or number,
 *                                         or contains NUL)
 *   wp_coding_agents_cli_message_too_large  message over 64 KiB
 *   wp_coding_agents_cli_unknown_channel  no valid channel by that name
 *   wp_coding_agents_cli_spawn_failed     command not found or not executable,
 *                                         cwd not a directory, proc_open
 *                                         disabled or failed
 *   wp_coding_agents_cli_timeout          synchronous CLI outlived its timeout
 *                                         and was killed
 *   wp_coding_agents_cli_exit_nonzero     a synchronous CLI exited non-zero or
 *                                         died from a signal; a detached one
 *                                         exited non-zero within its window
 *   Error data carries channel and, where known, pid, exit_code, signal,
 *   stdout, stderr, the truncation flags (and detached for a detached CLI).
 *
 * @package wp-coding-agents
 */

defined( 'ABSPATH' ) || exit;

if ( ! class_exists( 'Bridgectl_Cli_Transport', false ) ) {

    final class Bridgectl_Cli_Transport {
        const REGISTRY_FILTER = 'wp_coding_agents_cli_channels';
        const LEGACY_FILTER   = 'datamachine_code_cli_channels';
        const HANDLER_FILTER  = 'wp_agent_dispatch_message_handler';

        const DEFAULT_TIMEOUT = 60;
        const OUTPUT_LIMIT    = 65536;
        const KILL_GRACE      = 2.0;
        // After the CLI exits, a grandchild may still hold its pipes open;
        // read what is there, but never wait on it longer than this.
        const DRAIN_LIMIT     = 0.5;
        const POLL_SECONDS    = 0.05;
        // Used only to find executables when the PHP process has no PATH
        // (php-fpm clears the environment by default).
        const DEFAULT_PATH    = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
        // The PATH the child gets unless the channel pins one: the system
        // directories every bridgectl unit's PATH ends with, after the
        // CLI's own directory (as kimaki.service has it).
        const UNIT_PATH       = '/usr/local/bin:/usr/bin:/bin';
        // The sudo hop's limit; applied in every mode, so a message is
        // refused the same way whichever mode the channel runs in.
        const MESSAGE_LIMIT   = 65536;
        // A detached child that exits non-zero within this many seconds is
        // a failure; one still running after it is a success.
        const DEFAULT_SETTLE  = 1.0;
        const MAX_SETTLE      = 30;
        const PID_WAIT        = 5.0;

        /** @var array<int, array{source: string, name: string, reason: string}> */
        private static $rejected = [];

        public static function register() {
            static $done = false;
            if ( $done || ! function_exists( 'add_filter' ) ) {
                return;
            }
            $done = true;
            add_filter( self::HANDLER_FILTER, [ self::class, 'claim' ], 10, 2 );
        }

        /**
         * Valid channels by name, legacy first so the registry overwrites it.
         *
         * @return array<string, array>
         */
        public static function channels(): array {
            self::$rejected = [];
            $channels = self::read_source( self::LEGACY_FILTER );
            foreach ( self::read_source( self::REGISTRY_FILTER ) as $name => $channel ) {
                $channels[ $name ] = $channel;
            }
            return $channels;
        }

        /**
         * Entries ignored by the last channels() call, and why: for doctor
         * and for an operator wondering why a channel is not claimed.
         */
        public static function rejected(): array {
            return self::$rejected;
        }

        private static function read_source( string $filter ): array {
            $raw = function_exists( 'get_option' ) ? get_option( $filter, [] ) : [];
            if ( ! is_array( $raw ) ) {
                $raw = [];
            }
            if ( function_exists( 'apply_filters' ) ) {
                $raw = apply_filters( $filter, $raw );
            }
            if ( ! is_array( $raw ) ) {
                return [];
            }
            $valid = [];
            foreach ( $raw as $name => $entry ) {
                // PHP turns a decimal-integer key into an int; a list is not a registry.
                if ( ! is_string( $name ) || '' === $name ) {
                    self::$rejected[] = [ 'source' => $filter, 'name' => (string) $name, 'reason' => 'channel name must be a non-empty string' ];
                    continue;
                }
                $reason  = '';
                $channel = self::validate( $entry, $reason );
                if ( null === $channel ) {
                    self::$rejected[] = [ 'source' => $filter, 'name' => $name, 'reason' => $reason ];
                    continue;
                }
                $valid[ $name ] = $channel;
            }
            return $valid;
        }

        /**
         * One entry, normalised with defaults, or null (and $reason) when invalid.
         */
        public static function validate( $entry, &$reason = '' ) {
            if ( ! is_array( $entry ) ) {
                $reason = 'entry is not an array';
                return null;
            }
            $command = $entry['command'] ?? null;
            if ( ! is_string( $command ) || '' === $command || self::has_nul( $command ) ) {
                $reason = 'command must be a non-empty string';
                return null;
            }
            $args = array_key_exists( 'args', $entry ) ? $entry['args'] : [];
            if ( ! self::is_string_list( $args ) ) {
                $reason = 'args must be a list of strings';
                return null;
            }
            $detach = array_key_exists( 'detach', $entry ) ? $entry['detach'] : true;
            if ( ! is_bool( $detach ) ) {
                $reason = 'detach must be a bool';
                return null;
            }
            $timeout = array_key_exists( 'timeout', $entry ) ? $entry['timeout'] : self::DEFAULT_TIMEOUT;
            if ( ! is_int( $timeout ) || $timeout < 0 ) {
                $reason = 'timeout must be a non-negative int';
                return null;
            }
            $env = [];
            if ( array_key_exists( 'env', $entry ) ) {
                $env = self::validate_env( $entry['env'], $reason );
                if ( null === $env ) {
                    return null;
                }
            }
            $settle = array_key_exists( 'settle', $entry ) ? $entry['settle'] : self::DEFAULT_SETTLE;
            if ( ! ( is_int( $settle ) || is_float( $settle ) ) || ! is_finite( (float) $settle ) || $settle < 0 || $settle > self::MAX_SETTLE ) {
                $reason = 'settle must be a number of seconds from 0 to ' . self::MAX_SETTLE;
                return null;
            }
            $inherit = array_key_exists( 'inherit_env', $entry ) ? $entry['inherit_env'] : [];
            if ( ! self::is_string_list( $inherit ) ) {
                $reason = 'inherit_env must be a list of variable names';
                return null;
            }
            foreach ( $inherit as $key ) {
                if ( ! preg_match( '/^[A-Za-z_][A-Za-z0-9_]*$/', $key ) ) {
                    $reason = "inherit_env: {$key} is not a variable name";
                    return null;
                }
                if ( self::is_request_variable( $key ) ) {
                    $reason = "inherit_env cannot name {$key}: request headers and FastCGI parameters never reach the CLI (pin a value in env instead)";
                    return null;
                }
            }
            $cwd = null;
            if ( array_key_exists( 'cwd', $entry ) ) {
                $cwd = $entry['cwd'];
                if ( ! is_string( $cwd ) || '' === $cwd || self::has_nul( $cwd ) ) {
                    $reason = 'cwd must be a non-empty string';
                    return null;
                }
            }
            return [
                'command' => $command,
                'args'    => $args,
                'detach'  => $detach,
                'timeout' => $timeout,
                'env'     => $env,
                'cwd'     => $cwd,
                'settle'  => $settle,
                'inherit_env' => $inherit,
            ];
        }

        private static function validate_env( $env, &$reason ) {
            if ( ! is_array( $env ) ) {
                $reason = 'env must be a map';
                return null;
            }
            $out = [];
            foreach ( $env as $key => $value ) {
                if ( ! is_string( $key ) || '' === $key || false !== strpos( $key, '=' ) || self::has_nul( $key ) ) {
                    $reason = 'env names must be non-empty strings without = or NUL';
                    return null;
                }
                if ( is_bool( $value ) ) {
                    $value = $value ? '1' : '0';
                } elseif ( is_int( $value ) || is_float( $value ) ) {
                    $value = (string) $value;
                } elseif ( ! is_string( $value ) ) {
                    $reason = "env value of {$key} must be a string, number or bool";
                    return null;
                }
                if ( self::has_nul( $value ) ) {
                    $reason = "env value of {$key} contains NUL";
                    return null;
                }
                $out[ $key ] = $value;
            }
            return $out;
        }

        /**
         * wp_agent_dispatch_message_handler: claim a dispatch for a registered
         * channel unless another runtime already did.
         */
        public static function claim( $handler, $input = null ) {
            if ( is_callable( $handler ) ) {
                return $handler;
            }
            if ( ! is_array( $input ) || ! isset( $input['channel'] ) || ! is_string( $input['channel'] ) ) {
                return $handler;
            }
            if ( ! array_key_exists( $input['channel'], self::channels() ) ) {
                return $handler;
            }
            return [ self::class, 'dispatch' ];
        }

        /**
         * The handler: canonical dispatch input in, canonical output or WP_Error out.
         */
        public static function dispatch( $input ) {
            if ( ! is_array( $input ) ) {
                return self::error( 'missing_input', 'dispatch input must be an array', [] );
            }
            foreach ( [ 'channel', 'message' ] as $required ) {
                if ( ! isset( $input[ $required ] ) || '' === $input[ $required ] ) {
                    return self::error( 'missing_input', "dispatch input has no {$required}", [ 'field' => $required ] );
                }
            }
            $tokens = [];
            foreach ( [ 'channel', 'recipient', 'message', 'conversation_id' ] as $field ) {
                $raw = $input[ $field ] ?? null;
                if ( is_string( $raw ) && self::has_nul( $raw ) ) {
                    // argv ends a string at NUL and the sudo hop would drop it: refuse rather than send something else.
                    $at = strpos( $raw, "\0" );
                    return self::error( 'invalid_input', "{$field} contains a NUL byte (at byte {$at}); no dispatch mode can carry it", [ 'field' => $field, 'offset' => $at ] );
                }
                $value = self::token_value( $raw );
                if ( null === $value ) {
                    return self::error( 'invalid_input', "{$field} must be a string or number", [ 'field' => $field ] );
                }
                $tokens[ '{' . $field . '}' ] = $value;
            }
            $name     = $tokens['{channel}'];
            $channels = self::channels();
            if ( ! array_key_exists( $name, $channels ) ) {
                return self::error( 'unknown_channel', "no valid CLI channel named '{$name}' is registered", [ 'channel' => $name ] );
            }
            $channel = $channels[ $name ];
            $data    = [ 'channel' => $name ];
            $size    = strlen( $tokens['{message}'] );
            if ( $size > self::MESSAGE_LIMIT ) {
                return self::error( 'message_too_large', "channel '{$name}': the message is {$size} bytes; the limit is " . self::MESSAGE_LIMIT . ' (the sudo hop\'s, applied in every mode)', $data + [ 'bytes' => $size, 'limit' => self::MESSAGE_LIMIT ] );
            }

            if ( ! function_exists( 'proc_open' ) || ! function_exists( 'proc_get_status' ) ) {
                return self::error( 'spawn_failed', 'proc_open is not available in this PHP (see disable_functions)', $data );
            }
            $command = self::find_executable( $channel['command'] );
            if ( null === $command ) {
                return self::error( 'spawn_failed', "channel '{$name}': command {$channel['command']} is not an executable file" . ( false === strpos( $channel['command'], '/' ) ? ' on PATH' : '' ), $data );
            }
            if ( null !== $channel['cwd'] && ! self::restricted() && ! is_dir( $channel['cwd'] ) ) {
                return self::error( 'spawn_failed', "channel '{$name}': cwd {$channel['cwd']} is not a directory", $data );
            }

            $argv = [ $command ];
            foreach ( $channel['args'] as $arg ) {
                // strtr with an array replaces in one pass: a substituted value is never substituted again.
                $argv[] = strtr( $arg, $tokens );
            }
            $env = self::build_env( $channel['env'], $channel['inherit_env'], $command );
            $cwd = self::working_dir( $channel );

            $result = $channel['detach']
                ? self::spawn_detached( $argv, $cwd, $env, (float) $channel['settle'], $data )
                : self::run_sync( $argv, $cwd, $env, $channel['timeout'], $data );
            if ( ! is_array( $result ) ) {
                return $result;
            }
            return [
                'sent'       => true,
                'channel'    => $name,
                'recipient'  => $tokens['{recipient}'],
                'message_id' => null,
                'metadata'   => [ 'transport' => 'cli' ] + $result,
            ];
        }

        /**
         * The child's environment, built from an allow-list rather than
         * inherited: under php-fpm getenv() holds the FastCGI parameters and
         * the requester's headers (HTTP_PROXY, HTTP_COOKIE, …), which must
         * never reach the CLI. In order, later wins: PATH (the system
         * directories bridgectl's units end with, after the CLI's own
         * directory), an inherited HOME that passes the HOME guard,
         * inherited LANG, LC_* and TZ, the variables the channel names in
         * inherit_env, then the channel's env pins.
         */
        public static function build_env( array $pinned, array $inherit = [], string $command = '' ): array {
            $dirs = explode( ':', self::UNIT_PATH );
            if ( '' !== $command && '/' === $command[0] ) {
                array_unshift( $dirs, dirname( $command ) );
            }
            $env       = [ 'PATH' => implode( ':', array_unique( $dirs ) ) ];
            $inherited = getenv();
            $inherited = is_array( $inherited ) ? $inherited : [];
            foreach ( $inherited as $key => $value ) {
                if ( is_string( $key ) && ( 'HOME' === $key || 'LANG' === $key || 'TZ' === $key || 0 === strpos( $key, 'LC_' ) ) && ! self::is_request_variable( $key ) ) {
                    $env[ $key ] = (string) $value;
                }
            }
            foreach ( $inherit as $key ) {
                if ( array_key_exists( $key, $inherited ) && ! self::is_request_variable( $key ) ) {
                    $env[ $key ] = (string) $inherited[ $key ];
                }
            }
            foreach ( $pinned as $key => $value ) {
                $env[ $key ] = $value;
            }
            if ( ! array_key_exists( 'HOME', $pinned ) && array_key_exists( 'HOME', $env ) && ! self::usable_home( $env['HOME'] ) ) {
                unset( $env['HOME'] );
            }
            return $env;
        }

        /**
         * A request header (HTTP_*) or a FastCGI/CGI parameter: never passed
         * on, even when a channel names it.
         */
        public static function is_request_variable( string $key ): bool {
            static $names = [ 'AUTH_TYPE', 'CONTEXT_DOCUMENT_ROOT', 'CONTEXT_PREFIX', 'FCGI_ROLE', 'GATEWAY_INTERFACE', 'HTTPS', 'ORIG_PATH_INFO', 'ORIG_SCRIPT_NAME', 'PATH_INFO', 'PATH_TRANSLATED', 'QUERY_STRING', 'REQUEST_METHOD', 'REQUEST_SCHEME', 'REQUEST_TIME', 'REQUEST_TIME_FLOAT', 'REQUEST_URI', 'SCRIPT_FILENAME', 'SCRIPT_NAME', 'SCRIPT_URI', 'SCRIPT_URL', 'UNIQUE_ID' ];
            return in_array( $key, $names, true ) || 1 === preg_match( '/^(HTTP|SERVER|REMOTE|DOCUMENT|CONTENT|REDIRECT|PHP|FCGI|SSL)_/', $key );
        }

        /**
         * The child's working directory: the channel's cwd; else its pinned
         * HOME (a CLI that writes ./tmp must not write into the site root,
         * PHP's cwd under WP-cron); else null, PHP's own. A pinned HOME this
         * process cannot enter is left out, as PHP's chdir would silently
         * fail there anyway.
         */
        public static function working_dir( array $channel ) {
            if ( null !== $channel['cwd'] ) {
                return $channel['cwd'];
            }
            $home = $channel['env']['HOME'] ?? '';
            if ( '' === $home ) {
                return null;
            }
            if ( self::restricted() ) {
                return $home;
            }
            return ( @is_dir( $home ) && @is_executable( $home ) ) ? $home : null;
        }

        private static function usable_home( string $path ): bool {
            // Under open_basedir a HOME outside the allowed tree cannot be
            // checked, so it counts as unusable and is dropped.
            return '' !== $path && @is_dir( $path ) && @is_writable( $path );
        }

        /**
         * open_basedir hides paths outside the allowed tree from is_file() and
         * friends, but not from proc_open: there the command and cwd go to
         * proc_open unchecked, and its failure is what gets reported.
         */
        private static function restricted(): bool {
            return '' !== (string) ini_get( 'open_basedir' );
        }

        /**
         * An absolute path to run, or null. A name without a slash is looked up
         * on the PHP process's PATH (the same lookup proc_open would do), so a
         * missing command is reported as such instead of as an exit code.
         */
        public static function find_executable( string $command ) {
            if ( self::restricted() ) {
                return $command;
            }
            if ( false !== strpos( $command, '/' ) ) {
                return ( is_file( $command ) && is_executable( $command ) ) ? $command : null;
            }
            $path = getenv( 'PATH' );
            if ( ! is_string( $path ) || '' === $path ) {
                $path = self::DEFAULT_PATH;
            }
            foreach ( explode( ':', $path ) as $dir ) {
                $candidate = ( '' === $dir ? '.' : rtrim( $dir, '/' ) ) . '/' . $command;
                if ( is_file( $candidate ) && is_executable( $candidate ) ) {
                    return $candidate;
                }
            }
            return null;
        }

        /**
         * The setsid executable that puts a detached child in its own session,
         * or null. Searched on PATH, then the system directories; never under
         * open_basedir, where it cannot be checked and a wrong guess would
         * make every detached dispatch fail.
         */
        public static function setsid_path() {
            static $found = false;
            if ( self::restricted() ) {
                return null;
            }
            if ( false === $found ) {
                $found = self::find_executable( 'setsid' );
                if ( null === $found ) {
                    foreach ( explode( ':', self::DEFAULT_PATH ) as $dir ) {
                        if ( is_file( "{$dir}/setsid" ) && is_executable( "{$dir}/setsid" ) ) {
                            $found = "{$dir}/setsid";
                            break;
                        }
                    }
                }
            }
            return $found;
        }

        /**
         * The intermediate a detached CLI is started through (sh -c, argv:
         * <setsid path or ''> <command> <args…>). It forks a watcher and
         * exits at once, so PHP reaps it right away and never has a child
         * left behind: the watcher and the CLI belong to init from then on,
         * however long the PHP worker lives. The watcher starts the CLI
         * (stdin and stdout /dev/null, stderr a temp file), writes
         * "pid <pid>" to the pipe PHP reads, waits for the CLI, then writes
         * "exit <code>" and the tail of its stderr, and removes the file.
         * PHP reads that pipe only for the settle window. Nothing from the
         * message is ever part of the script: the CLI's argv is "$@".
         */
        const DETACH_SCRIPT = <<<'SH'
s=$1
shift
(
    e=$(PATH=/usr/bin:/bin; mktemp 2>/dev/null) || e=
    if [ -n "$s" ]; then
        "$s" "$@" </dev/null >/dev/null 2>"${e:-/dev/null}" &
    else
        "$@" </dev/null >/dev/null 2>"${e:-/dev/null}" &
    fi
    p=$!
    printf 'pid %s\n' "$p"
    wait "$p"
    c=$?
    PATH=/usr/bin:/bin
    t=
    if [ -n "$e" ]; then
        t=$(tail -c 2048 "$e" 2>/dev/null)
        rm -f "$e"
    fi
    printf 'exit %s\n%s' "$c" "$t"
) &
SH;

        private static function spawn_detached( array $argv, $cwd, array $env, float $settle, array $data ) {
            // setsid execs the command in place (it only forks when it is a
            // process-group leader, which a background job of sh never is),
            // so the pid reported is the CLI's own.
            $setsid = self::setsid_path();
            $sh     = [ '/bin/sh', '-c', self::DETACH_SCRIPT, 'bridgectl-detach', (string) $setsid ];
            // 'null' (PHP 7.4+) opens /dev/null directly; a 'file' descriptor
            // would go through PHP streams, which open_basedir can refuse.
            $spec  = [ 0 => [ 'null' ], 1 => [ 'pipe', 'w' ], 2 => [ 'null' ] ];
            $pipes = [];
            $why   = '';
            $start = microtime( true );
            $proc  = self::open( array_merge( $sh, $argv ), $spec, $pipes, $cwd, $env, $why );
            if ( null === $proc ) {
                return self::error( 'spawn_failed', "channel '{$data['channel']}': could not start {$argv[0]}: {$why}", $data );
            }
            $pipe = $pipes[1];
            stream_set_blocking( $pipe, false );
            $text = '';
            $pid  = null;
            // The window runs from the spawn. The pid line comes within
            // milliseconds (or EOF, when sh cannot start); on a loaded host it
            // is waited for past a short window rather than reported as a
            // failure while the CLI may well be running.
            $window = $start + $settle;
            $limit  = $start + max( $settle, self::PID_WAIT );
            while ( ! feof( $pipe ) ) {
                $until = null === $pid ? $limit : $window;
                $left  = $until - microtime( true );
                if ( $left <= 0 ) {
                    break;
                }
                $read   = [ $pipe ];
                $write  = null;
                $except = null;
                if ( @stream_select( $read, $write, $except, 0, max( 1000, (int) ( $left * 1e6 ) ) ) ) {
                    $chunk = fread( $pipe, 8192 );
                    $text .= is_string( $chunk ) ? $chunk : '';
                }
                if ( null === $pid && preg_match( '/^pid (\d+)\n/', $text, $m ) ) {
                    $pid = (int) $m[1];
                }
            }
            fclose( $pipe );
            // The intermediate exited right after forking the watcher: this
            // reaps it without waiting.
            proc_close( $proc );
            if ( null === $pid ) {
                return self::error( 'spawn_failed', "channel '{$data['channel']}': could not start {$argv[0]} through /bin/sh", $data );
            }
            $data['pid'] = $pid;
            $exit        = null;
            if ( preg_match( '/\nexit (\d+)\n/', $text, $m, PREG_OFFSET_CAPTURE ) ) {
                $exit = (int) $m[1][0];
                $tail = trim( (string) substr( $text, $m[0][1] + strlen( $m[0][0] ) ) );
                if ( 0 !== $exit ) {
                    $data += [ 'detached' => true, 'exit_code' => $exit, 'stderr' => $tail, 'duration_ms' => (int) round( ( microtime( true ) - $start ) * 1000 ) ];
                    return self::error( 'exit_nonzero', "channel '{$data['channel']}': {$argv[0]} exited with code {$exit} within {$settle}s" . ( '' !== $tail ? ': ' . substr( $tail, -500 ) : '' ), $data );
                }
            }
            return [
                'detached'    => true,
                'pid'         => $pid,
                'new_session' => null !== $setsid,
                // 0 when the CLI finished within the window, null while it runs on.
                'exit_code'   => $exit,
            ];
        }

        private static function run_sync( array $argv, $cwd, array $env, int $timeout, array $data ) {
            $spec  = [
                0 => [ 'null' ],
                1 => [ 'pipe', 'w' ],
                2 => [ 'pipe', 'w' ],
            ];
            $pipes = [];
            $why   = '';
            $start = microtime( true );
            $proc  = self::open( $argv, $spec, $pipes, $cwd, $env, $why );
            if ( null === $proc ) {
                return self::error( 'spawn_failed', "channel '{$data['channel']}': could not start {$argv[0]}: {$why}", $data );
            }
            $streams = [ 1 => $pipes[1], 2 => $pipes[2] ];
            foreach ( $streams as $stream ) {
                stream_set_blocking( $stream, false );
            }
            $out      = [ 1 => '', 2 => '' ];
            $cut      = [ 1 => false, 2 => false ];
            $deadline = $timeout > 0 ? $start + $timeout : null;
            $status   = proc_get_status( $proc );
            $data['pid'] = $status['pid'];
            $timed_out   = false;

            while ( true ) {
                self::pump( $streams, $out, $cut, self::POLL_SECONDS );
                // Before PHP 8.3 the exit code is reported only by the first
                // proc_get_status() that sees the exit, so keep that one.
                $status = proc_get_status( $proc );
                if ( ! $status['running'] ) {
                    break;
                }
                if ( null !== $deadline && microtime( true ) >= $deadline ) {
                    $timed_out = true;
                    $status    = self::terminate( $proc, $streams, $out, $cut );
                    break;
                }
            }
            $drain_until = microtime( true ) + self::DRAIN_LIMIT;
            while ( $streams && microtime( true ) < $drain_until ) {
                self::pump( $streams, $out, $cut, self::POLL_SECONDS );
            }
            foreach ( $pipes as $pipe ) {
                if ( is_resource( $pipe ) ) {
                    fclose( $pipe );
                }
            }
            proc_close( $proc );

            $data += [
                'exit_code'        => ( $status['running'] || $status['signaled'] ) ? null : $status['exitcode'],
                'signal'           => $status['signaled'] ? $status['termsig'] : null,
                'stdout'           => $out[1],
                'stderr'           => $out[2],
                'stdout_truncated' => $cut[1],
                'stderr_truncated' => $cut[2],
                'duration_ms'      => (int) round( ( microtime( true ) - $start ) * 1000 ),
            ];
            if ( $timed_out ) {
                return self::error( 'timeout', "channel '{$data['channel']}': {$argv[0]} did not finish within {$timeout}s and was killed", $data );
            }
            if ( null !== $data['signal'] || 0 !== $data['exit_code'] ) {
                $how  = null !== $data['signal'] ? "was killed by signal {$data['signal']}" : "exited with code {$data['exit_code']}";
                $tail = trim( substr( '' !== trim( $out[2] ) ? $out[2] : $out[1], -500 ) );
                return self::error( 'exit_nonzero', "channel '{$data['channel']}': {$argv[0]} {$how}" . ( '' !== $tail ? ": {$tail}" : '' ), $data );
            }
            return [ 'detached' => false ] + $data;
        }

        /**
         * Wait up to $seconds for output and read what arrived; closed streams
         * are removed from $streams. Output past the limit is read and dropped.
         */
        private static function pump( array &$streams, array &$out, array &$cut, float $seconds ) {
            if ( ! $streams ) {
                usleep( (int) ( $seconds * 1e6 ) );
                return;
            }
            $read   = array_values( $streams );
            $write  = null;
            $except = null;
            $ready  = @stream_select( $read, $write, $except, 0, (int) ( $seconds * 1e6 ) );
            if ( ! $ready ) {
                return;
            }
            foreach ( $streams as $fd => $stream ) {
                if ( ! in_array( $stream, $read, true ) ) {
                    continue;
                }
                $chunk = fread( $stream, 65536 );
                if ( is_string( $chunk ) && '' !== $chunk ) {
                    $room = self::OUTPUT_LIMIT - strlen( $out[ $fd ] );
                    if ( strlen( $chunk ) > $room ) {
                        $chunk       = substr( $chunk, 0, max( 0, $room ) );
                        $cut[ $fd ] = true;
                    }
                    $out[ $fd ] .= $chunk;
                } elseif ( feof( $stream ) ) {
                    unset( $streams[ $fd ] );
                }
            }
        }

        /** SIGTERM, then SIGKILL after the grace period; returns the final status. */
        private static function terminate( $proc, array &$streams, array &$out, array &$cut ): array {
            proc_terminate( $proc, 15 );
            $until = microtime( true ) + self::KILL_GRACE;
            while ( true ) {
                $status = proc_get_status( $proc );
                if ( ! $status['running'] ) {
                    return $status;
                }
                if ( microtime( true ) >= $until ) {
                    break;
                }
                self::pump( $streams, $out, $cut, self::POLL_SECONDS );
            }
            proc_terminate( $proc, 9 );
            $until = microtime( true ) + 5;
            do {
                usleep( 10000 );
                $status = proc_get_status( $proc );
            } while ( $status['running'] && microtime( true ) < $until );
            return $status;
        }

        /**
         * proc_open with an argv array, its warning or exception turned into $why.
         */
        private static function open( array $argv, array $spec, &$pipes, $cwd, array $env, &$why ) {
            $why = 'proc_open failed';
            set_error_handler(
                static function ( $severity, $message ) use ( &$why ) {
                    $why = $message;
                    return true;
                }
            );
            try {
                $proc = proc_open( $argv, $spec, $pipes, $cwd, $env );
            } catch ( \Throwable $e ) {
                $why  = $e->getMessage();
                $proc = false;
            } finally {
                restore_error_handler();
            }
            return is_resource( $proc ) ? $proc : null;
        }

        /** A token's argument text, or null when it cannot be one. */
        private static function token_value( $value ) {
            if ( null === $value ) {
                return '';
            }
            if ( is_int( $value ) || is_float( $value ) ) {
                return (string) $value;
            }
            if ( ! is_string( $value ) || self::has_nul( $value ) ) {
                return null;
            }
            return $value;
        }

        private static function is_string_list( $value ): bool {
            if ( ! is_array( $value ) || array_values( $value ) !== $value ) {
                return false;
            }
            foreach ( $value as $item ) {
                if ( ! is_string( $item ) || self::has_nul( $item ) ) {
                    return false;
                }
            }
            return true;
        }

        private static function has_nul( string $value ): bool {
            return false !== strpos( $value, "\0" );
        }

        private static function error( string $code, string $message, array $data ) {
            return new WP_Error( 'wp_coding_agents_cli_' . $code, $message, $data );
        }
    }

    Bridgectl_Cli_Transport::register();
}
