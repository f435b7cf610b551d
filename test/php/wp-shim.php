<?php
/**
 * The smallest WordPress the transport needs: ABSPATH, filters, options and
 * WP_Error. Filters run by priority, then registration order, with the
 * declared number of arguments, as in WordPress.
 */

define( 'ABSPATH', __DIR__ . '/' );

$GLOBALS['wp_shim_filters'] = [];
$GLOBALS['wp_shim_options'] = [];

function add_filter( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
    $GLOBALS['wp_shim_filters'][ $hook ][ $priority ][] = [ $callback, $accepted_args ];
    return true;
}

function apply_filters( $hook, $value, ...$args ) {
    $by_priority = $GLOBALS['wp_shim_filters'][ $hook ] ?? [];
    ksort( $by_priority );
    foreach ( $by_priority as $callbacks ) {
        foreach ( $callbacks as [ $callback, $accepted ] ) {
            $value = call_user_func_array( $callback, array_slice( array_merge( [ $value ], $args ), 0, $accepted ) );
        }
    }
    return $value;
}

/** Test helper (WordPress has it too): forget every callback on a hook. */
function remove_all_filters( $hook ) {
    unset( $GLOBALS['wp_shim_filters'][ $hook ] );
    return true;
}

function get_option( $name, $default = false ) {
    return array_key_exists( $name, $GLOBALS['wp_shim_options'] ) ? $GLOBALS['wp_shim_options'][ $name ] : $default;
}

class WP_Error {
    private $code;
    private $message;
    private $data;

    public function __construct( $code = '', $message = '', $data = '' ) {
        $this->code    = $code;
        $this->message = $message;
        $this->data    = $data;
    }

    public function get_error_code() {
        return $this->code;
    }

    public function get_error_message() {
        return $this->message;
    }

    public function get_error_data() {
        return $this->data;
    }
}

function is_wp_error( $thing ) {
    return $thing instanceof WP_Error;
}
