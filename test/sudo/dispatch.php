<?php
/**
 * A minimal stand-in for the CLI dispatch transport mu-plugin
 * (templates/wp-coding-agents-cli-transport.php, on the transport branch),
 * doing for one dispatch what the transport does: load the channels file
 * bridgectl wrote, read the channel from the registry filter, substitute
 * the tokens into each argument, lay the channel's env over getenv(), and
 * proc_open the argv array (no shell). Unlike the transport it always runs
 * the channel synchronously, so the test sees the exit code and stderr.
 * To be replaced by the real transport when the branches merge.
 *
 * php dispatch.php <channels file> <channel> <recipient> <message file>
 * Prints {"exit": int, "stdout": string, "stderr": string} as JSON.
 */

define( 'ABSPATH', '/' );

$bridgectl_filters = [];
function add_filter( $name, $callback ) {
    global $bridgectl_filters;
    $bridgectl_filters[ $name ][] = $callback;
}
function apply_filters( $name, $value ) {
    global $bridgectl_filters;
    foreach ( $bridgectl_filters[ $name ] ?? [] as $callback ) {
        $value = $callback( $value );
    }
    return $value;
}

[ , $channels_file, $name, $recipient, $message_file ] = $argv;
require $channels_file;
$channels = apply_filters( 'wp_coding_agents_cli_channels', [] );
if ( ! isset( $channels[ $name ] ) || ! is_array( $channels[ $name ] ) ) {
    fwrite( STDERR, "no channel named {$name}\n" );
    exit( 2 );
}
$channel = $channels[ $name ];
$tokens  = [
    '{channel}'         => $name,
    '{recipient}'       => $recipient,
    '{message}'         => file_get_contents( $message_file ),
    '{conversation_id}' => '',
];
$command = [ $channel['command'] ];
foreach ( $channel['args'] as $arg ) {
    $command[] = strtr( $arg, $tokens );
}
$env = [];
foreach ( getenv() as $key => $value ) {
    $env[ $key ] = $value;
}
foreach ( $channel['env'] ?? [] as $key => $value ) {
    $env[ $key ] = $value;
}
$proc = proc_open( $command, [ 0 => [ 'file', '/dev/null', 'r' ], 1 => [ 'pipe', 'w' ], 2 => [ 'pipe', 'w' ] ], $pipes, null, $env );
if ( ! is_resource( $proc ) ) {
    fwrite( STDERR, "proc_open failed\n" );
    exit( 3 );
}
$stdout = stream_get_contents( $pipes[1] );
$stderr = stream_get_contents( $pipes[2] );
fclose( $pipes[1] );
fclose( $pipes[2] );
echo json_encode( [ 'exit' => proc_close( $proc ), 'stdout' => $stdout, 'stderr' => $stderr ] ), "\n";
