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
    // BEGIN bridge:telegram
    $channels['telegram'] = [
        'command' => '/usr/bin/curl',
        'args'    => [ '-q', '--config', '/etc/bridgectl/telegram.curl', '-sS', '--fail', '--data-urlencode', 'chat_id={recipient}', '--data-urlencode', 'text={message}' ],
        'detach'  => false,
        'timeout' => 60,
    ];
    // END bridge:telegram
    // END bridges

    return $channels;
} );
