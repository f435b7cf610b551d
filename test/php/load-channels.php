<?php
// Load a rendered channels mu-plugin the way WordPress would, with just
// enough of WordPress stubbed, run its filter, and print the channels as JSON.
// Usage: php load-channels.php <channels file> [filter name]
define( 'ABSPATH', __DIR__ . '/' );
$GLOBALS['bridgectl_filters'] = array();
function add_filter( $name, $callback, $priority = 10, $accepted_args = 1 ) {
	$GLOBALS['bridgectl_filters'][ $name ][] = $callback;
	return true;
}
require $argv[1];
$name     = $argv[2] ?? 'wp_coding_agents_cli_channels';
$channels = array();
foreach ( $GLOBALS['bridgectl_filters'][ $name ] ?? array() as $callback ) {
	$channels = $callback( $channels );
}
echo json_encode( $channels, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR );
