<?php
/**
 * Plugin Name: wp-coding-agents — CLI channel registry
 * Description: Registers chat-bridge CLIs as channels for the CLI dispatch
 *              transport behind the agents/dispatch-message ability.
 *              Managed by bridgectl: `bridgectl install` and `upgrade`
 *              rewrite the marker blocks below, `uninstall` removes them.
 *              Edits inside a block are overwritten; text outside survives.
 *
 * @package wp-coding-agents
 */

defined( 'ABSPATH' ) || exit;

add_filter( 'wp_coding_agents_cli_channels', function ( $channels ) {
    if ( ! is_array( $channels ) ) {
        $channels = [];
    }

    // BEGIN bridges
    // BEGIN bridge:cc-connect
    $channels['cc-connect'] = [
        'command' => '/usr/bin/cc-connect',
        'args'    => [ 'send', '--project', '{recipient}', '{message}' ],
        'detach'  => true,
        'timeout' => 600,
        'env'     => [ 'HOME' => '/root' ],
    ];
    // END bridge:cc-connect
    // END bridges

    return $channels;
} );
