<?php
/**
 * Smoke suite for the CLI dispatch transport, in real PHP with real processes.
 *
 *   php test/php/transport-suite.php
 *       loads templates/wp-coding-agents-cli-transport.php (or TRANSPORT_FILE)
 *       and runs every case against test/php/fake-cli.php (or FAKE_CLI).
 *   BRIDGECTL_CHANNELS_FILE=… BRIDGECTL_TRANSPORT_FILE=… php test/php/transport-suite.php
 *       runs only the end-to-end case, on the files bridgectl installed.
 *
 * Prints one line per assertion and ends with "transport: N passed, M failed";
 * exits 1 on any failure. Run it as an unprivileged user: root can write
 * every directory, so the unwritable-HOME cases would prove nothing — the
 * first assertion checks exactly that.
 */

error_reporting( E_ALL );
ini_set( 'display_errors', 'stderr' );

require __DIR__ . '/wp-shim.php';

const HANDLER_FILTER  = 'wp_agent_dispatch_message_handler';
const REGISTRY_FILTER = 'wp_coding_agents_cli_channels';
const LEGACY_FILTER   = 'datamachine_code_cli_channels';

$GLOBALS['passed'] = 0;
$GLOBALS['failed'] = 0;

// ---------------------------------------------------------------- harness

function check( string $name, bool $ok, string $detail = '' ) {
    if ( $ok ) {
        $GLOBALS['passed']++;
        echo "  ok   {$name}\n";
        return;
    }
    $GLOBALS['failed']++;
    echo "  FAIL {$name}" . ( '' !== $detail ? "\n       {$detail}" : '' ) . "\n";
}

function same( string $name, $expected, $actual ) {
    check( $name, $expected === $actual, 'expected ' . show( $expected ) . ', got ' . show( $actual ) );
}

function show( $value ): string {
    $text = var_export( $value, true );
    return strlen( $text ) > 400 ? substr( $text, 0, 400 ) . '…' : $text;
}

function section( string $title ) {
    echo "# {$title}\n";
}

function tmp( string $name = '' ): string {
    return $GLOBALS['tmp'] . ( '' === $name ? '' : "/{$name}" );
}

function make_dir( string $name, int $mode = 0700 ): string {
    $dir = tmp( $name );
    mkdir( $dir, 0700, true );
    chmod( $dir, $mode );
    return $dir;
}

function remove_tree( string $path ) {
    if ( is_link( $path ) || is_file( $path ) ) {
        @unlink( $path );
        return;
    }
    if ( ! is_dir( $path ) ) {
        return;
    }
    @chmod( $path, 0700 );
    foreach ( scandir( $path ) as $entry ) {
        if ( '.' !== $entry && '..' !== $entry ) {
            remove_tree( "{$path}/{$entry}" );
        }
    }
    @rmdir( $path );
}

function wait_for( string $file, float $seconds ): bool {
    $until = microtime( true ) + $seconds;
    while ( ! file_exists( $file ) ) {
        if ( microtime( true ) > $until ) {
            return false;
        }
        usleep( 20000 );
    }
    return true;
}

/** What the fake CLI recorded under $prefix: argv, env map, pid/sid/cwd/stdio. */
function record( string $prefix, float $wait = 5.0 ): array {
    if ( ! wait_for( "{$prefix}.json", $wait ) ) {
        return [ 'argv' => null, 'env' => [], 'info' => [] ];
    }
    $env = [];
    foreach ( explode( "\0", (string) file_get_contents( "{$prefix}.env" ) ) as $pair ) {
        $at = strpos( $pair, '=' );
        if ( false !== $at ) {
            $env[ substr( $pair, 0, $at ) ] = substr( $pair, $at + 1 );
        }
    }
    return [
        'argv' => explode( "\0", (string) file_get_contents( "{$prefix}.argv" ) ),
        'env'  => $env,
        'info' => json_decode( (string) file_get_contents( "{$prefix}.json" ), true ),
    ];
}

/** Back to the state right after the transport loaded: its own claim, no channels, no options. */
function reset_wp() {
    remove_all_filters( REGISTRY_FILTER );
    remove_all_filters( LEGACY_FILTER );
    $GLOBALS['wp_shim_filters'][ HANDLER_FILTER ] = $GLOBALS['handlers_after_load'];
    $GLOBALS['wp_shim_options'] = [];
}

/** Feed channels through a filter the way the channels mu-plugin does. */
function feed( string $filter, array $channels ) {
    add_filter(
        $filter,
        function ( $existing ) use ( $channels ) {
            $existing = is_array( $existing ) ? $existing : [];
            foreach ( $channels as $name => $entry ) {
                $existing[ $name ] = $entry;
            }
            return $existing;
        }
    );
}

/** What agents/dispatch-message does: ask the filter for a handler, call it. */
function dispatch( array $input ) {
    $handler = apply_filters( HANDLER_FILTER, null, $input );
    if ( ! is_callable( $handler ) ) {
        return 'unclaimed';
    }
    return call_user_func( $handler, $input );
}

/** A synchronous fake-CLI channel recording under $prefix. */
function fake_channel( string $prefix, array $over = [], array $env = [] ): array {
    return array_replace(
        [
            'command' => $GLOBALS['fake'],
            'args'    => [],
            'detach'  => false,
            'timeout' => 20,
            // The suite's PATH, so the fake CLI's shebang finds this php.
            'env'     => [ 'FAKE_CLI_RECORD' => $prefix, 'PATH' => (string) getenv( 'PATH' ) ] + $env,
        ],
        $over
    );
}

function error_code( $result ): string {
    return is_wp_error( $result ) ? $result->get_error_code() : 'not an error: ' . show( $result );
}

function error_data( $result ): array {
    return is_wp_error( $result ) && is_array( $result->get_error_data() ) ? $result->get_error_data() : [];
}

/** A directory this process owns but cannot write, and a check that it really cannot. */
function unwritable_dir( string $name ): string {
    return make_dir( $name, 0555 );
}

// ---------------------------------------------------------------- cases

function precondition_unprivileged() {
    section( 'precondition' );
    $dir = unwritable_dir( 'probe-unwritable' );
    check(
        'a 0555 directory is unwritable to this PHP process (not root)',
        ! is_writable( $dir ) && ! @mkdir( "{$dir}/x" ),
        'running with privileges that write everywhere: run the suite as an unprivileged user (e.g. setpriv --reuid=nobody --regid=nogroup --init-groups)'
    );
    check( 'the fake CLI is executable', is_file( $GLOBALS['fake'] ) && is_executable( $GLOBALS['fake'] ), $GLOBALS['fake'] );
}

function test_registry() {
    section( 'registry: validation' );
    reset_wp();
    $fake = $GLOBALS['fake'];
    same(
        'defaults: args [], detach true, timeout 60, env [], cwd null, settle 1 s, inherit_env []',
        [ 'command' => 'x', 'args' => [], 'detach' => true, 'timeout' => 60, 'env' => [], 'cwd' => null, 'settle' => 1.0, 'inherit_env' => [] ],
        Bridgectl_Cli_Transport::validate( [ 'command' => 'x' ] )
    );
    $invalid = [
        'not-an-array'     => 'command',
        'no-command'       => [ 'args' => [] ],
        'empty-command'    => [ 'command' => '' ],
        'int-command'      => [ 'command' => 5 ],
        'nul-command'      => [ 'command' => "/bin/x\0y" ],
        'args-string'      => [ 'command' => $fake, 'args' => 'send' ],
        'args-map'         => [ 'command' => $fake, 'args' => [ 'a' => 'send' ] ],
        'args-gap'         => [ 'command' => $fake, 'args' => [ 1 => 'send' ] ],
        'args-int'         => [ 'command' => $fake, 'args' => [ 'send', 5 ] ],
        'args-nul'         => [ 'command' => $fake, 'args' => [ "a\0b" ] ],
        'detach-string'    => [ 'command' => $fake, 'detach' => 'yes' ],
        'detach-int'       => [ 'command' => $fake, 'detach' => 1 ],
        'detach-null'      => [ 'command' => $fake, 'detach' => null ],
        'timeout-negative' => [ 'command' => $fake, 'timeout' => -1 ],
        'timeout-string'   => [ 'command' => $fake, 'timeout' => '10' ],
        'timeout-float'    => [ 'command' => $fake, 'timeout' => 1.5 ],
        'env-string'       => [ 'command' => $fake, 'env' => 'HOME=/root' ],
        'env-int-key'      => [ 'command' => $fake, 'env' => [ 'HOME=/x' ] ],
        'env-key-equals'   => [ 'command' => $fake, 'env' => [ 'A=B' => 'c' ] ],
        'env-array-value'  => [ 'command' => $fake, 'env' => [ 'HOME' => '/ok', 'X' => [ 'y' ] ] ],
        'env-null-value'   => [ 'command' => $fake, 'env' => [ 'X' => null ] ],
        'env-object-value' => [ 'command' => $fake, 'env' => [ 'X' => new stdClass() ] ],
        'env-nul-value'    => [ 'command' => $fake, 'env' => [ 'X' => "a\0b" ] ],
        'cwd-empty'        => [ 'command' => $fake, 'cwd' => '' ],
        'cwd-int'          => [ 'command' => $fake, 'cwd' => 1 ],
        'settle-negative'  => [ 'command' => $fake, 'settle' => -1 ],
        'settle-string'    => [ 'command' => $fake, 'settle' => '1' ],
        'settle-huge'      => [ 'command' => $fake, 'settle' => 3600 ],
        'settle-nan'       => [ 'command' => $fake, 'settle' => NAN ],
        'inherit-string'   => [ 'command' => $fake, 'inherit_env' => 'FOO' ],
        'inherit-bad-name' => [ 'command' => $fake, 'inherit_env' => [ 'FOO=1' ] ],
        'inherit-http'     => [ 'command' => $fake, 'inherit_env' => [ 'FOO', 'HTTP_PROXY' ] ],
        'inherit-fastcgi'  => [ 'command' => $fake, 'inherit_env' => [ 'SCRIPT_FILENAME' ] ],
    ];
    feed( REGISTRY_FILTER, $invalid + [ 'good' => [ 'command' => $fake ] ] );
    add_filter( REGISTRY_FILTER, function ( $c ) { $c[] = [ 'command' => '/bin/true' ]; return $c; } );
    $channels = Bridgectl_Cli_Transport::channels();
    $reasons  = [];
    foreach ( Bridgectl_Cli_Transport::rejected() as $r ) {
        $reasons[ $r['name'] ] = $r['reason'];
    }
    foreach ( array_keys( $invalid ) as $name ) {
        check( "invalid entry '{$name}' is ignored, with a reason", ! isset( $channels[ $name ] ) && '' !== ( $reasons[ $name ] ?? '' ), show( $reasons[ $name ] ?? null ) );
    }
    same( 'a list-style (integer-keyed) entry is ignored', [ 'good' ], array_keys( $channels ) );
    same( 'an invalid env invalidates the whole entry, HOME pin included', false, isset( $channels['env-array-value'] ) );
    same( 'dispatch to an invalid channel is not claimed', 'unclaimed', dispatch( [ 'channel' => 'args-int', 'recipient' => 'r', 'message' => 'm' ] ) );

    same(
        'env scalars become strings: int, float, true => 1, false => 0',
        [ 'N' => '5', 'F' => '1.5', 'T' => '1', 'O' => '0', 'S' => 's' ],
        Bridgectl_Cli_Transport::validate( [ 'command' => 'x', 'env' => [ 'N' => 5, 'F' => 1.5, 'T' => true, 'O' => false, 'S' => 's' ] ] )['env']
    );
    $valid = Bridgectl_Cli_Transport::validate( [ 'command' => 'x', 'args' => [ 'a' ], 'detach' => false, 'timeout' => 0, 'cwd' => '/tmp', 'settle' => 0, 'inherit_env' => [ 'FOO' ], 'extra' => 'ignored' ] );
    same( 'explicit values are kept; unknown keys ignored', [ 'command' => 'x', 'args' => [ 'a' ], 'detach' => false, 'timeout' => 0, 'env' => [], 'cwd' => '/tmp', 'settle' => 0, 'inherit_env' => [ 'FOO' ] ], $valid );

    section( 'registry: sources and precedence' );
    reset_wp();
    add_filter( REGISTRY_FILTER, function () { return 'not an array'; } );
    same( 'a filter returning a non-array yields no channels', [], Bridgectl_Cli_Transport::channels() );

    reset_wp();
    $GLOBALS['wp_shim_options'][ REGISTRY_FILTER ] = [ 'from-option' => [ 'command' => $fake ] ];
    $seen = null;
    add_filter( REGISTRY_FILTER, function ( $c ) use ( &$seen ) { $seen = $c; return $c; } );
    check( 'the registry is seeded from get_option', isset( Bridgectl_Cli_Transport::channels()['from-option'] ) );
    same( 'the registry filter receives the option value', [ 'from-option' ], array_keys( (array) $seen ) );

    reset_wp();
    $GLOBALS['wp_shim_options'][ LEGACY_FILTER ] = [ 'legacy-option' => [ 'command' => $fake ] ];
    feed( LEGACY_FILTER, [ 'legacy' => [ 'command' => $fake ] ] );
    $channels = Bridgectl_Cli_Transport::channels();
    check( 'the legacy filter feeds channels', isset( $channels['legacy'] ) );
    check( 'the legacy registry is seeded from get_option', isset( $channels['legacy-option'] ) );

    reset_wp();
    $p = tmp( 'precedence' );
    feed( LEGACY_FILTER, [ 'dup' => fake_channel( $p, [ 'args' => [ 'legacy' ] ] ) ] );
    feed( REGISTRY_FILTER, [ 'dup' => fake_channel( $p, [ 'args' => [ 'registry' ] ] ) ] );
    $result = dispatch( [ 'channel' => 'dup', 'recipient' => 'r', 'message' => 'm' ] );
    same( 'same name in both: the registry entry is the one that runs', [ $GLOBALS['fake'], 'registry' ], record( $p )['argv'] );
    check( '… and the dispatch succeeds', is_array( $result ) && true === $result['sent'], show( $result ) );

    reset_wp();
    $p = tmp( 'precedence-invalid' );
    feed( LEGACY_FILTER, [ 'dup' => fake_channel( $p, [ 'args' => [ 'legacy' ] ] ) ] );
    feed( REGISTRY_FILTER, [ 'dup' => fake_channel( $p, [ 'args' => [ 'registry' ], 'timeout' => '5' ] ) ] );
    dispatch( [ 'channel' => 'dup', 'recipient' => 'r', 'message' => 'm' ] );
    same( 'an invalid registry entry does not hide a valid legacy one', [ $GLOBALS['fake'], 'legacy' ], record( $p )['argv'] );
}

function test_claim() {
    section( 'claim' );
    reset_wp();
    feed( REGISTRY_FILTER, [ 'sync' => fake_channel( tmp( 'claim' ) ) ] );
    $input = [ 'channel' => 'sync', 'recipient' => 'r', 'message' => 'm' ];
    same( 'an unregistered channel is not claimed', null, apply_filters( HANDLER_FILTER, null, [ 'channel' => 'nope', 'message' => 'm' ] ) );
    same( 'input without a channel is not claimed', null, apply_filters( HANDLER_FILTER, null, [ 'message' => 'm' ] ) );
    same( 'a non-string channel is not claimed', null, apply_filters( HANDLER_FILTER, null, [ 'channel' => [ 'sync' ], 'message' => 'm' ] ) );
    check( 'a registered channel is claimed with a callable', is_callable( apply_filters( HANDLER_FILTER, null, $input ) ) );

    $theirs = function () { return [ 'sent' => true, 'channel' => 'theirs', 'recipient' => '' ]; };
    add_filter( HANDLER_FILTER, function ( $h ) use ( $theirs ) { return $h ?? $theirs; }, 5, 1 );
    same( 'a handler claimed earlier is returned untouched', $theirs, apply_filters( HANDLER_FILTER, null, $input ) );
    same( 'a callable passed in is returned untouched', 'strlen', Bridgectl_Cli_Transport::claim( 'strlen', $input ) );
    check( 'a non-callable leftover does not block the claim', is_callable( Bridgectl_Cli_Transport::claim( 'no_such_function_here', $input ) ) );
    same( 'a non-callable leftover is kept for an unregistered channel', 'leftover', Bridgectl_Cli_Transport::claim( 'leftover', [ 'channel' => 'nope' ] ) );
}

function test_argv() {
    section( 'argv: tokens' );
    reset_wp();
    $p = tmp( 'tokens' );
    feed(
        REGISTRY_FILTER,
        [
            'tok' => fake_channel(
                $p,
                [ 'args' => [ '{channel}', '{recipient}', '{message}', '{conversation_id}', '--prompt={message}', 'pre{recipient}post', '{unknown}', '{recipient}{message}', 'plain' ] ]
            ),
        ]
    );
    $result = dispatch( [ 'channel' => 'tok', 'recipient' => '1234', 'message' => 'hi there', 'conversation_id' => 'c-9' ] );
    check( 'dispatch succeeds', is_array( $result ) && true === $result['sent'], show( $result ) );
    same(
        'every token is substituted in place, one argument per template arg',
        [ $GLOBALS['fake'], 'tok', '1234', 'hi there', 'c-9', '--prompt=hi there', 'pre1234post', '{unknown}', '1234hi there', 'plain' ],
        record( $p )['argv']
    );
    same( 'the result names channel and recipient', [ 'tok', '1234' ], [ $result['channel'] ?? null, $result['recipient'] ?? null ] );

    $p = tmp( 'tokens-nested' );
    feed( REGISTRY_FILTER, [ 'tok' => fake_channel( $p, [ 'args' => [ '{recipient}|{message}', '{conversation_id}' ] ] ) ] );
    dispatch( [ 'channel' => 'tok', 'recipient' => '{message}', 'message' => '{recipient}{conversation_id}', 'conversation_id' => null ] );
    same( 'a substituted value is never substituted again; null conversation_id is empty', [ $GLOBALS['fake'], '{message}|{recipient}{conversation_id}', '' ], record( $p )['argv'] );

    $p = tmp( 'tokens-int' );
    feed( REGISTRY_FILTER, [ 'tok' => fake_channel( $p, [ 'args' => [ '{recipient}', '{message}' ] ] ) ] );
    dispatch( [ 'channel' => 'tok', 'recipient' => 1234567890123456789, 'message' => 42 ] );
    same( 'integer recipient and message become their decimal text', [ $GLOBALS['fake'], '1234567890123456789', '42' ], record( $p )['argv'] );

    section( 'argv: hostile message content arrives as one argument, byte for byte' );
    $pwned   = tmp( 'pwned' );
    $hostile = [
        'semicolon'        => "; touch {$pwned} #",
        'command subst'    => "\$(touch {$pwned}) and `touch {$pwned}`",
        'variables'        => '${HOME} $PATH %s %n',
        'quotes'           => "it's \"quoted\" and 'single' \\ back\\slash",
        'newlines'         => "line one\nline two\r\n\tindented\n",
        'leading dash'     => '-x --help',
        'double dash'      => '--',
        'unicode'          => 'ünïcödé ✓ 🚀 日本語 — “curly”',
        'invalid utf-8'    => "\xff\xfe\x80 raw bytes \xc3",
        'spaces and glob'  => '  * ~ ? [a] {message} ',
        'pipes redirects'  => "a | cat > {$pwned} && echo < /etc/passwd",
        'long (64 KiB)'    => str_repeat( "x'\"\$;", 13107 ) . 'y',
    ];
    foreach ( $hostile as $label => $message ) {
        $p = tmp( 'hostile-' . md5( $label ) );
        reset_wp();
        feed( REGISTRY_FILTER, [ 'h' => fake_channel( $p, [ 'args' => [ 'send', '--prompt', '{message}', 'after' ] ] ) ] );
        dispatch( [ 'channel' => 'h', 'recipient' => 'r', 'message' => $message ] );
        same( "hostile: {$label}", [ $GLOBALS['fake'], 'send', '--prompt', $message, 'after' ], record( $p )['argv'] );
    }
    check( 'no shell ever ran: nothing created the marker file', ! file_exists( $pwned ) );
}

function test_detach() {
    section( 'detach' );
    reset_wp();
    $p = tmp( 'detached' );
    feed( REGISTRY_FILTER, [ 'bg' => fake_channel( $p, [ 'detach' => true, 'args' => [ '{message}' ] ], [ 'FAKE_CLI_SLEEP' => '3' ] ) ] );
    $start   = microtime( true );
    $result  = dispatch( [ 'channel' => 'bg', 'recipient' => 'r', 'message' => 'later' ] );
    $elapsed = microtime( true ) - $start;
    check( 'a detached dispatch returns after the default 1 s window while the CLI sleeps 3 s', $elapsed >= 0.95 && $elapsed < 2.5, sprintf( 'took %.2fs', $elapsed ) );
    $meta = is_array( $result ) ? $result['metadata'] : [];
    check( 'it reports sent, detached and a pid', is_array( $result ) && true === $result['sent'] && true === ( $meta['detached'] ?? null ) && is_int( $meta['pid'] ?? null ) && $meta['pid'] > 0, show( $result ) );
    $rec = record( $p );
    $pid = $meta['pid'] ?? -1;
    same( 'the pid is the CLI\'s own', $pid, $rec['info']['pid'] ?? null );
    check( 'the CLI is still running after dispatch returned', ! file_exists( "{$p}.done" ) && file_exists( "/proc/{$pid}" ) );
    same( 'the CLI got its argv', [ $GLOBALS['fake'], 'later' ], $rec['argv'] );
    if ( null !== Bridgectl_Cli_Transport::setsid_path() ) {
        same( 'the CLI leads a new session (setsid found)', $pid, $rec['info']['sid'] ?? null );
        same( 'metadata says new_session', true, $meta['new_session'] ?? null );
    } else {
        echo "# no setsid on this machine: the documented fallback keeps the caller's session\n";
        same( 'without setsid the CLI stays in our session', posix_getsid( 0 ), $rec['info']['sid'] ?? null );
    }
    $stdio = $rec['info']['stdio'] ?? [];
    same( 'stdin and stdout are /dev/null', [ '/dev/null', '/dev/null' ], array_slice( $stdio, 0, 2 ) );
    $stderr = (string) ( $stdio[2] ?? '' );
    check( 'stderr is a temp file (its tail is what an early exit reports)', 1 === preg_match( '#^/.+/tmp\.[A-Za-z0-9]+$#', $stderr ), show( $stderr ) );
    check( 'the CLI is not a child of this PHP process', getmypid() !== proc_ppid( $pid ), 'ppid ' . show( proc_ppid( $pid ) ) );
    check( 'the CLI finishes on its own', wait_for( "{$p}.done", 6 ) );
    $until = microtime( true ) + 3;
    while ( file_exists( "/proc/{$pid}" ) && microtime( true ) < $until ) {
        usleep( 50000 );
    }
    check( 'a finished detached CLI is reaped by someone else, not left a zombie of this process', ! file_exists( "/proc/{$pid}" ) );
    usleep( 100000 );
    check( '… and its stderr file is removed', '' !== $stderr && ! file_exists( $stderr ), $stderr );
}

/** The parent pid of $pid from /proc, or null. */
function proc_ppid( int $pid ) {
    $stat = (string) @file_get_contents( "/proc/{$pid}/stat" );
    if ( '' === $stat ) {
        return null;
    }
    $f = explode( ' ', substr( $stat, (int) strrpos( $stat, ')' ) + 2 ) );
    return (int) ( $f[1] ?? -1 );
}

/** This process's children as pid => state letter (Z = zombie), from /proc. */
function children_of( int $parent ): array {
    $kids = [];
    foreach ( glob( '/proc/[0-9]*/stat' ) ?: [] as $file ) {
        $stat = (string) @file_get_contents( $file );
        if ( '' === $stat ) {
            continue;
        }
        $f = explode( ' ', substr( $stat, (int) strrpos( $stat, ')' ) + 2 ) );
        if ( (int) ( $f[1] ?? -1 ) === $parent ) {
            $kids[ (int) substr( $stat, 0, (int) strpos( $stat, ' ' ) ) ] = $f[0];
        }
    }
    return $kids;
}

function test_detach_exit() {
    section( 'detach: the settle window' );
    reset_wp();
    $p = tmp( 'early-exit' );
    feed(
        REGISTRY_FILTER,
        [ 'bg' => fake_channel( $p, [ 'detach' => true, 'settle' => 5 ], [ 'FAKE_CLI_EXIT' => '64', 'FAKE_CLI_STDERR' => str_repeat( 'noise ', 1000 ) . "\nEACCES: permission denied, mkdir '/var/www/tmp'\n" ] ) ]
    );
    $start   = microtime( true );
    $result  = dispatch( [ 'channel' => 'bg', 'recipient' => 'r', 'message' => 'm' ] );
    $elapsed = microtime( true ) - $start;
    $data    = error_data( $result );
    same( 'a detached CLI that exits 64 at once is an exit_nonzero error', 'wp_coding_agents_cli_exit_nonzero', error_code( $result ) );
    same( '… carrying its exit code, pid and detached', [ 64, record( $p )['info']['pid'] ?? 'none', true ], [ $data['exit_code'] ?? null, $data['pid'] ?? null, $data['detached'] ?? null ] );
    check( '… and the tail of its stderr (at most 2 KiB, its end kept)', is_string( $data['stderr'] ?? null ) && strlen( $data['stderr'] ) <= 2048 && "EACCES: permission denied, mkdir '/var/www/tmp'" === substr( $data['stderr'], -47 ), show( $data['stderr'] ?? null ) );
    check( '… named in the message', is_wp_error( $result ) && false !== strpos( $result->get_error_message(), 'exited with code 64' ) && false !== strpos( $result->get_error_message(), 'EACCES' ), is_wp_error( $result ) ? $result->get_error_message() : '' );
    check( 'the window ends as soon as the CLI exits (well inside a 5 s window)', $elapsed < 3.0, sprintf( 'took %.2fs', $elapsed ) );

    $p = tmp( 'late-exit' );
    feed( REGISTRY_FILTER, [ 'bg' => fake_channel( $p, [ 'detach' => true, 'settle' => 0.3 ], [ 'FAKE_CLI_EXIT' => '65', 'FAKE_CLI_SLEEP' => '1' ] ) ] );
    $start   = microtime( true );
    $result  = dispatch( [ 'channel' => 'bg', 'recipient' => 'r', 'message' => 'm' ] );
    $elapsed = microtime( true ) - $start;
    check( 'a CLI still running when its channel\'s settle window (0.3 s) ends is sent, with its pid', is_array( $result ) && true === $result['sent'] && is_int( $result['metadata']['pid'] ?? null ) && null === $result['metadata']['exit_code'], show( $result ) );
    check( '… after that window, before the CLI exits (1 s)', $elapsed >= 0.28 && $elapsed < 1.0, sprintf( 'took %.2fs', $elapsed ) );
    check( '… and it ran on to its end', wait_for( "{$p}.done", 5 ) );

    $p = tmp( 'quick-ok' );
    feed( REGISTRY_FILTER, [ 'bg' => fake_channel( $p, [ 'detach' => true, 'settle' => 5 ] ) ] );
    $start   = microtime( true );
    $result  = dispatch( [ 'channel' => 'bg', 'recipient' => 'r', 'message' => 'm' ] );
    $elapsed = microtime( true ) - $start;
    check( 'a CLI that exits 0 within the window is sent, exit_code 0, without waiting out the window', is_array( $result ) && 0 === ( $result['metadata']['exit_code'] ?? null ) && $elapsed < 3.0, sprintf( '%.2fs %s', $elapsed, show( $result ) ) );

    $p = tmp( 'settle-zero' );
    feed( REGISTRY_FILTER, [ 'bg' => fake_channel( $p, [ 'detach' => true, 'settle' => 0 ] ), 'bg-exit' => fake_channel( $p, [ 'detach' => true, 'settle' => 0 ], [ 'FAKE_CLI_EXIT' => '3', 'FAKE_CLI_SLEEP' => '0.5' ] ) ] );
    $result = dispatch( [ 'channel' => 'bg-exit', 'recipient' => 'r', 'message' => 'm' ] );
    check( 'settle 0: no window, sent with the pid', is_array( $result ) && is_int( $result['metadata']['pid'] ?? null ), show( $result ) );
    wait_for( "{$p}.done", 5 );
}

function test_zombies() {
    section( 'detach: no zombies in a long-lived worker' );
    reset_wp();
    $p = tmp( 'zombie' );
    // Each CLI outlives the window, as a real send does, and exits later.
    feed( REGISTRY_FILTER, [ 'bg' => fake_channel( $p, [ 'detach' => true, 'settle' => 0.05 ], [ 'FAKE_CLI_SLEEP' => '0.4' ] ) ] );
    $pids = [];
    for ( $i = 0; $i < 25; $i++ ) {
        $result = dispatch( [ 'channel' => 'bg', 'recipient' => 'r', 'message' => "m{$i}" ] );
        if ( is_array( $result ) ) {
            $pids[] = $result['metadata']['pid'];
        }
    }
    same( '25 detached dispatches from one process are all sent', 25, count( $pids ) );
    $until = microtime( true ) + 10;
    while ( array_filter( $pids, function ( $pid ) { return ! in_array( @file_get_contents( "/proc/{$pid}/stat" ) ? explode( ' ', substr( (string) @file_get_contents( "/proc/{$pid}/stat" ), (int) strrpos( (string) @file_get_contents( "/proc/{$pid}/stat" ), ')' ) + 2 ) )[0] : 'gone', [ 'Z', 'X', 'gone' ], true ); } ) && microtime( true ) < $until ) {
        usleep( 50000 );
    }
    usleep( 200000 );
    $kids = children_of( getmypid() );
    same( 'once the CLIs have exited, this PHP process has no zombie children', [], array_keys( array_filter( $kids, function ( $state ) { return 'Z' === $state; } ) ) );
    same( '… and no children at all', [], $kids );
}

function test_sync() {
    section( 'synchronous' );
    reset_wp();
    $p = tmp( 'sync' );
    feed( REGISTRY_FILTER, [ 'fg' => fake_channel( $p, [], [ 'FAKE_CLI_STDOUT' => "hello out\n", 'FAKE_CLI_STDERR' => "a warning\n" ] ) ] );
    $result = dispatch( [ 'channel' => 'fg', 'recipient' => 'r', 'message' => 'm' ] );
    $meta   = is_array( $result ) ? $result['metadata'] : [];
    check( 'a synchronous dispatch reports sent', is_array( $result ) && true === $result['sent'], show( $result ) );
    same( 'it captures exit code, stdout and stderr', [ 0, "hello out\n", "a warning\n", false ], [ $meta['exit_code'] ?? null, $meta['stdout'] ?? null, $meta['stderr'] ?? null, $meta['detached'] ?? null ] );
    same( 'it reports the CLI\'s pid', record( $p )['info']['pid'] ?? 'none', $meta['pid'] ?? null );

    $p = tmp( 'sync-big' );
    feed( REGISTRY_FILTER, [ 'fg' => fake_channel( $p, [], [ 'FAKE_CLI_STDOUT_BYTES' => '300000', 'FAKE_CLI_STDERR' => 'e' ] ) ] );
    $result = dispatch( [ 'channel' => 'fg', 'recipient' => 'r', 'message' => 'm' ] );
    $meta   = is_array( $result ) ? $result['metadata'] : [];
    same( 'stdout past 64 KiB is truncated and flagged; the CLI is not blocked', [ 65536, true, 'e', false ], [ strlen( $meta['stdout'] ?? '' ), $meta['stdout_truncated'] ?? null, $meta['stderr'] ?? null, $meta['stderr_truncated'] ?? null ] );

    $p = tmp( 'sync-exit' );
    feed(
        REGISTRY_FILTER,
        [ 'fg' => fake_channel( $p, [], [ 'FAKE_CLI_EXIT' => '64', 'FAKE_CLI_STDOUT' => "partial\n", 'FAKE_CLI_STDERR' => "EACCES: permission denied, mkdir '/nowhere/.bridge'\n" ] ) ]
    );
    $result = dispatch( [ 'channel' => 'fg', 'recipient' => 'r', 'message' => 'm' ] );
    $data   = error_data( $result );
    same( 'a non-zero exit is an exit_nonzero error', 'wp_coding_agents_cli_exit_nonzero', error_code( $result ) );
    same( 'it carries the exit code and both outputs', [ 64, "partial\n", "EACCES: permission denied, mkdir '/nowhere/.bridge'\n" ], [ $data['exit_code'] ?? null, $data['stdout'] ?? null, $data['stderr'] ?? null ] );
    check( 'its message names the code and the CLI\'s complaint', is_wp_error( $result ) && false !== strpos( $result->get_error_message(), 'code 64' ) && false !== strpos( $result->get_error_message(), 'EACCES' ), is_wp_error( $result ) ? $result->get_error_message() : '' );

    $p   = tmp( 'sync-cwd' );
    $cwd = make_dir( 'cwd' );
    feed( REGISTRY_FILTER, [ 'fg' => fake_channel( $p, [ 'cwd' => $cwd ] ) ] );
    dispatch( [ 'channel' => 'fg', 'recipient' => 'r', 'message' => 'm' ] );
    same( 'cwd is the channel\'s', realpath( $cwd ), record( $p )['info']['cwd'] ?? null );

    $p = tmp( 'sync-no-limit' );
    feed( REGISTRY_FILTER, [ 'fg' => fake_channel( $p, [ 'timeout' => 0 ], [ 'FAKE_CLI_SLEEP' => '1.2' ] ) ] );
    $result = dispatch( [ 'channel' => 'fg', 'recipient' => 'r', 'message' => 'm' ] );
    check( 'timeout 0 means no limit', is_array( $result ) && 0 === ( $result['metadata']['exit_code'] ?? null ), show( $result ) );
}

function test_timeout() {
    section( 'timeout' );
    reset_wp();
    $p = tmp( 'timeout' );
    feed( REGISTRY_FILTER, [ 'slow' => fake_channel( $p, [ 'timeout' => 1 ], [ 'FAKE_CLI_SLEEP' => '30', 'FAKE_CLI_STDOUT' => "started\n" ] ) ] );
    $start   = microtime( true );
    $result  = dispatch( [ 'channel' => 'slow', 'recipient' => 'r', 'message' => 'm' ] );
    $elapsed = microtime( true ) - $start;
    $data    = error_data( $result );
    same( 'a CLI past its timeout is a timeout error', 'wp_coding_agents_cli_timeout', error_code( $result ) );
    check( 'it is stopped soon after the timeout (SIGTERM)', $elapsed >= 1.0 && $elapsed < 3.0, sprintf( 'took %.2fs', $elapsed ) );
    same( 'the error reports SIGTERM and the output so far', [ 15, "started\n" ], [ $data['signal'] ?? null, $data['stdout'] ?? null ] );
    check( 'the CLI is gone', isset( $data['pid'] ) && ! file_exists( "/proc/{$data['pid']}" ) );

    $p = tmp( 'timeout-stubborn' );
    feed( REGISTRY_FILTER, [ 'slow' => fake_channel( $p, [ 'timeout' => 1 ], [ 'FAKE_CLI_SLEEP' => '30', 'FAKE_CLI_IGNORE_TERM' => '1' ] ) ] );
    $start   = microtime( true );
    $result  = dispatch( [ 'channel' => 'slow', 'recipient' => 'r', 'message' => 'm' ] );
    $elapsed = microtime( true ) - $start;
    $data    = error_data( $result );
    same( 'a CLI ignoring SIGTERM still times out', 'wp_coding_agents_cli_timeout', error_code( $result ) );
    same( '… and is killed with SIGKILL', 9, $data['signal'] ?? null );
    check( '… after the 2 s grace period', $elapsed >= 2.9 && $elapsed < 5.0, sprintf( 'took %.2fs', $elapsed ) );
}

function test_failures() {
    section( 'errors' );
    reset_wp();
    $p        = tmp( 'errors' );
    $not_exec = tmp( 'not-executable' );
    file_put_contents( $not_exec, "#!/bin/sh\n" );
    chmod( $not_exec, 0644 );
    feed(
        REGISTRY_FILTER,
        [
            'ok'        => fake_channel( $p, [ 'args' => [ '{message}' ] ] ),
            'missing'   => fake_channel( $p, [ 'command' => tmp( 'no/such/cli' ) ] ),
            'not-exec'  => fake_channel( $p, [ 'command' => $not_exec ] ),
            'not-found' => fake_channel( $p, [ 'command' => 'no-such-bridge-cli-for-tests' ] ),
            'bad-cwd'   => fake_channel( $p, [ 'cwd' => tmp( 'no/such/dir' ) ] ),
            'bg-gone'   => fake_channel( $p, [ 'command' => tmp( 'no/such/cli' ), 'detach' => true ] ),
        ]
    );
    $ok = [ 'channel' => 'ok', 'recipient' => 'r', 'message' => 'm' ];
    foreach ( [ 'missing', 'not-exec', 'not-found', 'bad-cwd', 'bg-gone' ] as $name ) {
        same( "spawn failure: {$name}", 'wp_coding_agents_cli_spawn_failed', error_code( Bridgectl_Cli_Transport::dispatch( [ 'channel' => $name ] + $ok ) ) );
    }
    $cases = [
        'input not an array'        => [ 'missing_input', 'nope' ],
        'no channel'                => [ 'missing_input', [ 'recipient' => 'r', 'message' => 'm' ] ],
        'empty channel'             => [ 'missing_input', [ 'channel' => '' ] + $ok ],
        'no message'                => [ 'missing_input', [ 'channel' => 'ok', 'recipient' => 'r' ] ],
        'empty message'             => [ 'missing_input', [ 'message' => '' ] + $ok ],
        'null message'              => [ 'missing_input', [ 'message' => null ] + $ok ],
        'array message'             => [ 'invalid_input', [ 'message' => [ 'm' ] ] + $ok ],
        'message with NUL'          => [ 'invalid_input', [ 'message' => "a\0b" ] + $ok ],
        'array recipient'           => [ 'invalid_input', [ 'recipient' => [ 'r' ] ] + $ok ],
        'bool conversation_id'      => [ 'invalid_input', [ 'conversation_id' => true ] + $ok ],
        'unregistered channel'      => [ 'unknown_channel', [ 'channel' => 'nope' ] + $ok ],
    ];
    foreach ( $cases as $label => [ $code, $input ] ) {
        same( "error: {$label}", "wp_coding_agents_cli_{$code}", error_code( Bridgectl_Cli_Transport::dispatch( $input ) ) );
    }
    same( 'the error data names the channel', 'missing', error_data( Bridgectl_Cli_Transport::dispatch( [ 'channel' => 'missing' ] + $ok ) )['channel'] ?? null );

    $bin = make_dir( 'bin', 0755 );
    copy( $GLOBALS['fake'], "{$bin}/fakebridge" );
    chmod( "{$bin}/fakebridge", 0755 );
    $path = getenv( 'PATH' );
    putenv( "PATH={$bin}:" . ( is_string( $path ) ? $path : '/usr/bin:/bin' ) );
    $p = tmp( 'on-path' );
    feed( REGISTRY_FILTER, [ 'bare' => fake_channel( $p, [ 'command' => 'fakebridge', 'args' => [ '{message}' ] ] ) ] );
    $result = Bridgectl_Cli_Transport::dispatch( [ 'channel' => 'bare', 'recipient' => 'r', 'message' => 'm' ] );
    putenv( false === $path ? 'PATH' : "PATH={$path}" );
    same( 'a bare command name is found on PATH', [ "{$bin}/fakebridge", 'm' ], record( $p )['argv'] );
    check( '… and the dispatch succeeds', is_array( $result ) && true === $result['sent'], show( $result ) );
}

/** Run a synchronous dispatch with the given inherited HOME (null = unset); returns the child's env. */
function child_env( string $label, $home, array $pinned = [] ): array {
    $saved = getenv( 'HOME' );
    putenv( null === $home ? 'HOME' : "HOME={$home}" );
    $p = tmp( 'env-' . $label );
    reset_wp();
    feed( REGISTRY_FILTER, [ 'e' => fake_channel( $p, [], $pinned ) ] );
    $result = dispatch( [ 'channel' => 'e', 'recipient' => 'r', 'message' => 'm' ] );
    putenv( false === $saved ? 'HOME' : "HOME={$saved}" );
    if ( ! is_array( $result ) ) {
        check( "env/{$label}: dispatch succeeds", false, show( $result ) );
    }
    return record( $p )['env'];
}

function test_env() {
    section( 'environment: the HOME guard' );
    $unwritable = unwritable_dir( 'home-unwritable' );
    $writable   = make_dir( 'home-writable' );
    $pinned     = make_dir( 'home-pinned' );
    $file       = tmp( 'home-is-a-file' );
    file_put_contents( $file, '' );
    putenv( 'BRIDGECTL_SUITE_MARKER=inherited value' );

    $env = child_env( 'unwritable', $unwritable );
    check( 'an unwritable inherited HOME is not passed to the child', ! array_key_exists( 'HOME', $env ), show( $env['HOME'] ?? null ) );

    $env = child_env( 'pinned-wins', $unwritable, [ 'HOME' => $pinned ] );
    same( 'a channel-pinned writable HOME wins over a poisoned inherited one', $pinned, $env['HOME'] ?? null );
    $env = child_env( 'pinned-unwritable', $writable, [ 'HOME' => $unwritable ] );
    same( 'a pinned HOME is passed as pinned, even one this process cannot write', $unwritable, $env['HOME'] ?? null );

    $env = child_env( 'empty', '' );
    check( 'an empty inherited HOME is dropped', ! array_key_exists( 'HOME', $env ), show( $env['HOME'] ?? null ) );
    // proc_open itself skips empty values, so the child cannot tell; check the guard directly.
    $saved = getenv( 'HOME' );
    putenv( 'HOME=' );
    $built = Bridgectl_Cli_Transport::build_env( [] );
    putenv( false === $saved ? 'HOME' : "HOME={$saved}" );
    check( '… by the guard itself, not only by proc_open skipping empty values', ! array_key_exists( 'HOME', $built ) );
    $env = child_env( 'file', $file );
    check( 'an inherited HOME that is a file is dropped', ! array_key_exists( 'HOME', $env ), show( $env['HOME'] ?? null ) );
    $env = child_env( 'nonexistent', tmp( 'no/such/home' ) );
    check( 'a nonexistent inherited HOME is dropped', ! array_key_exists( 'HOME', $env ), show( $env['HOME'] ?? null ) );
    $env = child_env( 'unset', null );
    check( 'no inherited HOME: none is invented', ! array_key_exists( 'HOME', $env ), show( $env['HOME'] ?? null ) );
    $env = child_env( 'writable', $writable );
    same( 'a writable inherited HOME is kept', $writable, $env['HOME'] ?? null );

    section( 'environment: overlay' );
    $env = child_env( 'overlay', $writable, [ 'BRIDGECTL_SUITE_MARKER' => 'pinned value', 'BRIDGE_DATA_DIR' => '/data', 'BRIDGE_PORT' => 8080 ] );
    same(
        'channel env is laid over the built one',
        [ 'pinned value', '/data', '8080', $writable ],
        [ $env['BRIDGECTL_SUITE_MARKER'] ?? null, $env['BRIDGE_DATA_DIR'] ?? null, $env['BRIDGE_PORT'] ?? null, $env['HOME'] ?? null ]
    );
    putenv( 'BRIDGECTL_SUITE_MARKER' );
    test_env_built();
}

/**
 * What php-fpm's getenv() holds during a request to /wp-cron.php: the
 * FastCGI parameters and the requester's headers as HTTP_*. Put the same
 * into this process's environment and check none of it reaches the CLI.
 */
function test_env_built() {
    section( 'environment: built, not inherited' );
    $hostile = [
        'HTTP_PROXY'         => 'http://attacker.example:8080',
        'HTTP_COOKIE'        => 'wordpress_logged_in=secret',
        'HTTP_AUTHORIZATION' => 'Bearer secret',
        'HTTP_HOST'          => 'site.example',
        'SCRIPT_FILENAME'    => '/var/www/wp-cron.php',
        'SCRIPT_NAME'        => '/wp-cron.php',
        'REQUEST_METHOD'     => 'GET',
        'REQUEST_URI'        => '/wp-cron.php?doing_wp_cron',
        'QUERY_STRING'       => 'doing_wp_cron',
        'CONTENT_TYPE'       => 'text/plain',
        'CONTENT_LENGTH'     => '0',
        'SERVER_SOFTWARE'    => 'nginx',
        'SERVER_NAME'        => 'site.example',
        'REMOTE_ADDR'        => '203.0.113.9',
        'DOCUMENT_ROOT'      => '/var/www',
        'DOCUMENT_URI'       => '/wp-cron.php',
        'GATEWAY_INTERFACE'  => 'CGI/1.1',
        'REDIRECT_STATUS'    => '200',
        'PHP_VALUE'          => 'open_basedir=/',
        'FCGI_ROLE'          => 'RESPONDER',
        'HTTPS'              => 'on',
        'PATH_INFO'          => '',
        'UNRELATED_VAR'      => 'not named by the channel',
        'NAMED_ONE'          => 'named by the channel',
        'LANG'               => 'de_DE.UTF-8',
        'LC_ALL'             => 'C.UTF-8',
        'LC_TIME'            => 'en_GB.UTF-8',
        'TZ'                 => 'Europe/Berlin',
    ];
    $saved = [];
    foreach ( $hostile + [ 'PATH' => '' ] as $key => $value ) {
        $saved[ $key ] = getenv( $key );
        putenv( "{$key}={$value}" );
    }
    putenv( 'PATH=' . $saved['PATH'] );
    $p = tmp( 'env-built' );
    reset_wp();
    feed( REGISTRY_FILTER, [ 'e' => fake_channel( $p, [ 'inherit_env' => [ 'NAMED_ONE', 'NOT_SET_ANYWHERE' ] ] ) ] );
    $result = dispatch( [ 'channel' => 'e', 'recipient' => 'r', 'message' => 'm' ] );
    $env    = record( $p )['env'];
    check( 'dispatch succeeds', is_array( $result ), show( $result ) );
    foreach ( array_keys( $hostile ) as $key ) {
        if ( in_array( $key, [ 'NAMED_ONE', 'LANG', 'LC_ALL', 'LC_TIME', 'TZ' ], true ) ) {
            same( "{$key} reaches the CLI", $hostile[ $key ], $env[ $key ] ?? null );
        } else {
            check( "{$key} does not reach the CLI", ! array_key_exists( $key, $env ), show( $env[ $key ] ?? null ) );
        }
    }
    check( 'a name in inherit_env that is not set is not invented', ! array_key_exists( 'NOT_SET_ANYWHERE', $env ) );
    same(
        'the CLI gets exactly the built variables',
        [ 'FAKE_CLI_RECORD', 'LANG', 'LC_ALL', 'LC_TIME', 'NAMED_ONE', 'PATH', 'TZ' ],
        array_values( array_diff( sorted_keys( $env ), [ 'HOME' ] ) )
    );

    // No PATH pin: the PATH bridgectl's units set, the CLI's own directory first.
    same( 'default PATH: the CLI\'s directory, then /usr/local/bin:/usr/bin:/bin', '/opt/bridge/bin:/usr/local/bin:/usr/bin:/bin', Bridgectl_Cli_Transport::build_env( [], [], '/opt/bridge/bin/cli' )['PATH'] ?? null );
    same( '… without repeating a system directory', '/usr/bin:/usr/local/bin:/bin', Bridgectl_Cli_Transport::build_env( [], [], '/usr/bin/kimaki' )['PATH'] ?? null );
    same( 'a pinned PATH wins', '/pinned/bin', Bridgectl_Cli_Transport::build_env( [ 'PATH' => '/pinned/bin' ], [], '/usr/bin/kimaki' )['PATH'] ?? null );
    putenv( 'PATH=/nowhere/inherited' );
    same( 'the inherited PATH is not the default', '/usr/local/bin:/usr/bin:/bin', Bridgectl_Cli_Transport::build_env( [], [], '' )['PATH'] ?? null );
    putenv( 'PATH=' . $saved['PATH'] );
    $built = Bridgectl_Cli_Transport::build_env( [], [ 'HTTP_PROXY', 'REMOTE_ADDR' ], '' );
    check( 'inherit_env never passes a request variable, even if validation were bypassed', ! isset( $built['HTTP_PROXY'] ) && ! isset( $built['REMOTE_ADDR'] ), show( $built ) );

    foreach ( $saved as $key => $value ) {
        putenv( false === $value ? $key : "{$key}={$value}" );
    }
}

function sorted_keys( array $map ): array {
    $keys = array_keys( $map );
    sort( $keys );
    return $keys;
}

function test_cwd() {
    section( 'working directory' );
    reset_wp();
    $home  = make_dir( 'cwd-home', 0755 );
    $other = make_dir( 'cwd-other', 0755 );
    $p     = tmp( 'cwd-rule' );
    feed(
        REGISTRY_FILTER,
        [
            'home'        => fake_channel( "{$p}-home", [], [ 'HOME' => $home ] ),
            'cwd-wins'    => fake_channel( "{$p}-cwd", [ 'cwd' => $other ], [ 'HOME' => $home ] ),
            'no-home'     => fake_channel( "{$p}-none" ),
            'home-absent' => fake_channel( "{$p}-absent", [], [ 'HOME' => tmp( 'no/such/home' ) ] ),
            'home-bg'     => fake_channel( "{$p}-bg", [ 'detach' => true ], [ 'HOME' => $home ] ),
        ]
    );
    foreach ( [ 'home', 'cwd-wins', 'no-home', 'home-absent', 'home-bg' ] as $name ) {
        $r = dispatch( [ 'channel' => $name, 'recipient' => 'r', 'message' => 'm' ] );
        check( "cwd/{$name}: dispatch succeeds", is_array( $r ), show( $r ) );
    }
    same( 'no cwd key: the CLI runs in its pinned HOME', realpath( $home ), record( "{$p}-home" )['info']['cwd'] ?? null );
    same( 'a cwd key wins over the pinned HOME', realpath( $other ), record( "{$p}-cwd" )['info']['cwd'] ?? null );
    same( 'no cwd, no pinned HOME: PHP\'s own cwd, as before', getcwd(), record( "{$p}-none" )['info']['cwd'] ?? null );
    same( 'a pinned HOME that is not a directory: PHP\'s own cwd', getcwd(), record( "{$p}-absent" )['info']['cwd'] ?? null );
    same( 'detached channels follow the same rule', realpath( $home ), record( "{$p}-bg" )['info']['cwd'] ?? null );
}

function test_refused_before_spawn() {
    section( 'refused before spawning' );
    foreach ( [ 'sync' => false, 'detached' => true ] as $mode => $detach ) {
        reset_wp();
        $p = tmp( "refuse-{$mode}" );
        feed( REGISTRY_FILTER, [ 'c' => fake_channel( $p, [ 'detach' => $detach, 'args' => [ '{message}' ] ] ) ] );
        $at_limit = str_repeat( 'ü', 32768 );
        $result   = dispatch( [ 'channel' => 'c', 'recipient' => 'r', 'message' => $at_limit ] );
        check( "{$mode}: a message of exactly 64 KiB is sent", is_array( $result ) && [ $GLOBALS['fake'], $at_limit ] === record( $p )['argv'], show( $result ) );
        foreach ( glob( "{$p}.*" ) ?: [] as $f ) {
            unlink( $f );
        }
        $result = dispatch( [ 'channel' => 'c', 'recipient' => 'r', 'message' => $at_limit . '!' ] );
        same( "{$mode}: one byte more is refused: message_too_large", 'wp_coding_agents_cli_message_too_large', error_code( $result ) );
        check( "{$mode}: … with a clear message", is_wp_error( $result ) && "channel 'c': the message is 65537 bytes; the limit is 65536 (the sudo hop's, applied in every mode)" === $result->get_error_message(), is_wp_error( $result ) ? $result->get_error_message() : '' );
        $result = dispatch( [ 'channel' => 'c', 'recipient' => 'r', 'message' => "a\0b" ] );
        same( "{$mode}: a NUL byte in the message is refused", [ 'wp_coding_agents_cli_invalid_input', 'message contains a NUL byte (at byte 1); no dispatch mode can carry it' ], [ error_code( $result ), is_wp_error( $result ) ? $result->get_error_message() : '' ] );
        usleep( 300000 );
        check( "{$mode}: … and no CLI ran for either", [] === ( glob( "{$p}.*" ) ?: [] ), show( glob( "{$p}.*" ) ) );
    }
}

/**
 * Shared hosts often set open_basedir: PHP cannot stat the bridge CLI outside
 * the allowed tree, but proc_open can still run it. Runs last: open_basedir
 * can be tightened at run time but never lifted.
 */
function test_open_basedir() {
    section( 'open_basedir (last: it cannot be lifted)' );
    reset_wp();
    $outside = dirname( $GLOBALS['tmp'] );
    $p       = tmp( 'basedir' );
    feed(
        REGISTRY_FILTER,
        [
            'fg' => fake_channel( $p, [ 'args' => [ '{message}' ], 'cwd' => $GLOBALS['tmp'] ] ),
            'bg' => fake_channel( "{$p}-bg", [ 'args' => [ '{message}' ], 'detach' => true ] ),
        ]
    );
    $saved = getenv( 'HOME' );
    putenv( "HOME={$outside}" );
    ini_set( 'open_basedir', $GLOBALS['tmp'] );
    same( 'open_basedir is in force', $GLOBALS['tmp'], ini_get( 'open_basedir' ) );
    clearstatcache(); // a cached stat of the fake CLI would bypass open_basedir
    check( 'the fake CLI is invisible to PHP now', ! @is_file( $GLOBALS['fake'] ) );
    $result = dispatch( [ 'channel' => 'fg', 'recipient' => 'r', 'message' => 'm' ] );
    check( 'a CLI outside the allowed tree still runs', is_array( $result ) && true === $result['sent'], show( $result ) );
    $rec = record( $p );
    same( '… with its argv', [ $GLOBALS['fake'], 'm' ], $rec['argv'] );
    check( 'an inherited HOME that cannot be checked is dropped', ! array_key_exists( 'HOME', $rec['env'] ), show( $rec['env']['HOME'] ?? null ) );
    $result = dispatch( [ 'channel' => 'bg', 'recipient' => 'r', 'message' => 'm' ] );
    same( 'detached still works, without a new session', [ true, false ], is_array( $result ) ? [ $result['sent'], $result['metadata']['new_session'] ?? null ] : [ show( $result ) ] );
    check( '… and the CLI runs', wait_for( "{$p}-bg.done", 5 ) );
    putenv( false === $saved ? 'HOME' : "HOME={$saved}" );
}

// ---------------------------------------------------------------- end to end

/**
 * The files bridgectl installs, loaded together as WordPress would load the
 * mu-plugins: the channels file registers the bridge, the transport claims
 * and spawns it. The PHP process stands in for WP-cron as the web user: its
 * inherited HOME is a directory it cannot write, like /var/www.
 *
 * Env: BRIDGECTL_CHANNELS_FILE, BRIDGECTL_TRANSPORT_FILE (required),
 *      BRIDGECTL_E2E_CHANNEL (default kimaki), BRIDGECTL_E2E_COMMAND (the
 *      fake CLI the block must point at, optional).
 */
function test_end_to_end( string $channels_file, string $transport_file ) {
    section( "end to end: {$channels_file} + {$transport_file}" );
    $channel = getenv( 'BRIDGECTL_E2E_CHANNEL' ) ?: 'kimaki';
    $p       = tmp( 'e2e' );
    $web_home = unwritable_dir( 'var-www' );
    putenv( "HOME={$web_home}" );
    putenv( "FAKE_CLI_RECORD={$p}" );
    putenv( 'BRIDGECTL_E2E_MARKER=inherited' );

    require $channels_file;
    require $transport_file;
    // The CLI's environment is built, not inherited: let the fake CLI see
    // where to record by naming that one variable, as a custom channel
    // would; the installed block itself stays as bridgectl wrote it.
    $installed = null;
    add_filter(
        REGISTRY_FILTER,
        function ( $channels ) use ( $channel, &$installed ) {
            $installed = $channels[ $channel ] ?? null;
            if ( is_array( $installed ) ) {
                $channels[ $channel ]['inherit_env'] = [ 'FAKE_CLI_RECORD' ];
            }
            return $channels;
        },
        99
    );

    apply_filters( REGISTRY_FILTER, [] );
    $block    = $installed;
    check( "the channels file registers '{$channel}'", is_array( $block ), show( $block ) );
    $block    = is_array( $block ) ? $block : [];
    $expected = getenv( 'BRIDGECTL_E2E_COMMAND' );
    if ( is_string( $expected ) && '' !== $expected ) {
        same( 'its command is the fake CLI', $expected, $block['command'] ?? null );
    }
    $pinned_home = $block['env']['HOME'] ?? null;
    check( 'the block pins a HOME', is_string( $pinned_home ) && '' !== $pinned_home, show( $block ) );

    $message = "- progress: 3/5 done; \$(id) `whoami` \"quoted\" it's\nnext line ünïcödé 🚀";
    $input   = [ 'channel' => $channel, 'recipient' => '123456789012345678', 'message' => $message, 'conversation_id' => null ];
    $handler = apply_filters( HANDLER_FILTER, null, $input );
    check( 'the installed transport claims the dispatch', is_callable( $handler ) );
    $result = is_callable( $handler ) ? call_user_func( $handler, $input ) : null;
    check( 'the dispatch is sent', is_array( $result ) && true === $result['sent'], show( $result ) );
    $rec = record( $p, 10 );
    same(
        'the bridge CLI gets send --channel <recipient> --prompt <message>, verbatim',
        [ $block['command'] ?? null, 'send', '--channel', '123456789012345678', '--prompt', $message ],
        $rec['argv']
    );
    same( 'the child HOME is the pinned one, not the web user\'s unwritable one', $pinned_home, $rec['env']['HOME'] ?? null );
    foreach ( $block['env'] ?? [] as $key => $value ) {
        same( "pinned {$key} reaches the child", (string) $value, $rec['env'][ $key ] ?? null );
    }
    check( 'variables the channel does not name do not reach the child', ! array_key_exists( 'BRIDGECTL_E2E_MARKER', $rec['env'] ), show( $rec['env'] ) );
    same( 'the child PATH is the unit\'s: the CLI\'s directory, then the system directories', implode( ':', array_unique( [ dirname( (string) ( $block['command'] ?? '' ) ), '/usr/local/bin', '/usr/bin', '/bin' ] ) ), $rec['env']['PATH'] ?? null );
    if ( ! empty( $block['detach'] ) ) {
        check( 'the detached CLI runs to completion', wait_for( "{$p}.done", 10 ) );
    }
}

// ---------------------------------------------------------------- main

$GLOBALS['tmp'] = sys_get_temp_dir() . '/transport-suite-' . getmypid() . '-' . bin2hex( random_bytes( 4 ) );
mkdir( $GLOBALS['tmp'], 0700 );
$GLOBALS['fake'] = getenv( 'FAKE_CLI' ) ?: __DIR__ . '/fake-cli.php';
echo '# php ' . PHP_VERSION . ' as uid ' . ( function_exists( 'posix_geteuid' ) ? posix_geteuid() : '?' ) . ", temp {$GLOBALS['tmp']}\n";

try {
    $channels_file  = getenv( 'BRIDGECTL_CHANNELS_FILE' );
    $transport_file = getenv( 'BRIDGECTL_TRANSPORT_FILE' );
    if ( $channels_file || $transport_file ) {
        precondition_unprivileged();
        if ( ! $channels_file || ! $transport_file ) {
            check( 'end to end needs both BRIDGECTL_CHANNELS_FILE and BRIDGECTL_TRANSPORT_FILE', false );
        } else {
            test_end_to_end( $channels_file, $transport_file );
        }
    } else {
        $transport = getenv( 'TRANSPORT_FILE' ) ?: dirname( __DIR__, 2 ) . '/templates/wp-coding-agents-cli-transport.php';
        echo "# transport {$transport}\n";
        require $transport;
        $GLOBALS['handlers_after_load'] = $GLOBALS['wp_shim_filters'][ HANDLER_FILTER ] ?? [];
        precondition_unprivileged();
        test_registry();
        test_claim();
        test_argv();
        test_detach();
        test_detach_exit();
        test_zombies();
        test_sync();
        test_timeout();
        test_failures();
        test_env();
        test_cwd();
        test_refused_before_spawn();
        test_open_basedir();
    }
} catch ( \Throwable $e ) {
    check( 'the suite ran to the end', false, get_class( $e ) . ': ' . $e->getMessage() . ' at ' . $e->getFile() . ':' . $e->getLine() );
} finally {
    remove_tree( $GLOBALS['tmp'] );
}

if ( 0 === $GLOBALS['passed'] + $GLOBALS['failed'] ) {
    check( 'at least one assertion ran', false );
}
echo "transport: {$GLOBALS['passed']} passed, {$GLOBALS['failed']} failed\n";
exit( $GLOBALS['failed'] > 0 ? 1 : 0 );
