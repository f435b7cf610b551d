<?php
/**
 * Served by a real php-fpm worker in test/php/fpm.test.ts: the transport as
 * WordPress runs it under PHP-FPM. Dispatches ?n= detached messages to the
 * fake CLI (the last one recording its environment and cwd under ?record=),
 * then reports, as JSON, what this worker's getenv() and $_SERVER held, the
 * dispatch results and, once the CLIs have exited, this worker's children.
 */

require __DIR__ . '/wp-shim.php';
require __DIR__ . '/wp-coding-agents-cli-transport.php';

$record = (string) ( $_GET['record'] ?? '' );
$count  = max( 1, (int) ( $_GET['n'] ?? 1 ) );
add_filter(
    'wp_coding_agents_cli_channels',
    function ( $channels ) use ( $record ) {
        $channels['fake'] = [
            'command' => __DIR__ . '/fake-cli.php',
            'args'    => [ '{message}' ],
            'detach'  => true,
            'timeout' => 60,
            'settle'  => 0.05,
            'env'     => [ 'FAKE_CLI_RECORD' => $record, 'FAKE_CLI_SLEEP' => '0.3' ],
        ];
        return $channels;
    }
);

$results = [];
for ( $i = 0; $i < $count; $i++ ) {
    $result    = Bridgectl_Cli_Transport::dispatch( [ 'channel' => 'fake', 'recipient' => 'r', 'message' => "m{$i}" ] );
    $results[] = is_wp_error( $result ) ? $result->get_error_code() . ': ' . $result->get_error_message() : $result['metadata']['pid'];
}
// Let every CLI finish (each sleeps 0.3 s after its window) before looking at this worker's children.
usleep( 1500000 );

$children = [];
foreach ( glob( '/proc/[0-9]*/stat' ) ?: [] as $file ) {
    $stat = (string) @file_get_contents( $file );
    $f    = explode( ' ', substr( $stat, (int) strrpos( $stat, ')' ) + 2 ) );
    if ( '' !== $stat && (int) ( $f[1] ?? -1 ) === getmypid() ) {
        $children[] = (int) $stat . ' ' . $f[0];
    }
}

header( 'Content-Type: application/json' );
echo json_encode(
    [
        'sapi'        => PHP_SAPI,
        'getenv_keys' => array_keys( (array) getenv() ),
        'server_keys' => array_keys( $_SERVER ),
        'results'     => $results,
        'children'    => $children,
    ]
);
