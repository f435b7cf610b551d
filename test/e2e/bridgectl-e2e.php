<?php
/**
 * Plugin Name: bridgectl e2e dispatcher (test only)
 * Description: Dispatches the way a plugin does, from WP-cron. The e2e tier
 *              drops a job (channel, recipient, message) as JSON in the spool
 *              directory; the next request schedules it as a single cron
 *              event, and the WP-cron run (GET /wp-cron.php) calls the
 *              dispatch handler filter and writes what it returned, as JSON,
 *              to the results directory.
 */

defined( 'ABSPATH' ) || exit;

const BRIDGECTL_E2E_SPOOL   = '@SPOOL@';
const BRIDGECTL_E2E_RESULTS = '@RESULTS@';

add_action( 'init', static function () {
    foreach ( glob( BRIDGECTL_E2E_SPOOL . '/*.json' ) ?: [] as $job ) {
        $id = basename( $job, '.json' );
        // Renamed first, so a job is scheduled once even if two requests race.
        if ( @rename( $job, BRIDGECTL_E2E_SPOOL . "/{$id}.queued" ) ) {
            wp_schedule_single_event( time() - 1, 'bridgectl_e2e_dispatch', [ $id ] );
        }
    }
} );

add_action( 'bridgectl_e2e_dispatch', static function ( $id ) {
    $job     = json_decode( (string) file_get_contents( BRIDGECTL_E2E_SPOOL . "/{$id}.queued" ), true );
    $input   = [ 'channel' => $job['channel'], 'recipient' => $job['recipient'], 'message' => base64_decode( $job['message'] ) ];
    $handler = apply_filters( 'wp_agent_dispatch_message_handler', null, $input );
    if ( ! is_callable( $handler ) ) {
        $out = [ 'result' => null, 'error' => [ 'code' => 'no_handler', 'message' => "no dispatch handler claimed channel {$job['channel']}", 'data' => null ] ];
    } else {
        $result = call_user_func( $handler, $input );
        $out    = is_wp_error( $result )
            ? [ 'result' => null, 'error' => [ 'code' => $result->get_error_code(), 'message' => $result->get_error_message(), 'data' => $result->get_error_data() ] ]
            : [ 'result' => $result, 'error' => null ];
    }
    $out['php'] = [ 'pid' => getmypid(), 'cwd' => getcwd(), 'doing_cron' => defined( 'DOING_CRON' ) ];
    $json = json_encode( $out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE );
    file_put_contents( BRIDGECTL_E2E_RESULTS . "/{$id}.tmp", $json );
    rename( BRIDGECTL_E2E_RESULTS . "/{$id}.tmp", BRIDGECTL_E2E_RESULTS . "/{$id}.json" );
} );
