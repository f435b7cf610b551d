<?php
/**
 * One dispatch the way WordPress makes it, with the files bridgectl
 * installed: the WordPress shim of the PHP tests (test/php/wp-shim.php),
 * then the site's channels mu-plugin and CLI transport mu-plugin in
 * WordPress's load order, then the dispatch filter and the handler it
 * returns. The live sudo test runs it as the web user.
 *
 *   php wp-dispatch.php <shim> <site> <channel> <recipient> <message file>
 *
 * Prints {"result": <the handler's array>, "error": null}, or
 * {"result": null, "error": {"code", "message", "data"}} for a WP_Error.
 * Exits 2 when no handler claims the channel.
 */

[ , $shim, $site, $channel, $recipient, $message_file ] = $argv;
require $shim;
foreach ( [ 'wp-coding-agents-channels.php', 'wp-coding-agents-cli-transport.php' ] as $mu_plugin ) {
    require $site . '/wp-content/mu-plugins/' . $mu_plugin;
}

$input   = [ 'channel' => $channel, 'recipient' => $recipient, 'message' => file_get_contents( $message_file ) ];
$handler = apply_filters( 'wp_agent_dispatch_message_handler', null, $input );
if ( ! is_callable( $handler ) ) {
    fwrite( STDERR, "no dispatch handler claimed channel {$channel}\n" );
    exit( 2 );
}
$result = call_user_func( $handler, $input );
$out    = is_wp_error( $result )
    ? [ 'result' => null, 'error' => [ 'code' => $result->get_error_code(), 'message' => $result->get_error_message(), 'data' => $result->get_error_data() ] ]
    : [ 'result' => $result, 'error' => null ];
echo json_encode( $out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR ), "\n";
