#!/usr/bin/env php
<?php
/**
 * A stand-in bridge CLI. It records what it was given, then behaves as told.
 *
 * Records, when FAKE_CLI_RECORD is set (a path prefix):
 *   <prefix>.argv   argv, NUL-separated, argv[0] first (byte for byte)
 *   <prefix>.env    the environment, NUL-separated NAME=value
 *   <prefix>.json   {"pid", "sid", "cwd", "stdio": [what fds 0-2 point at]}
 *   <prefix>.done   written last, after any sleep
 * The record is written to a temp name and renamed, so a reader never sees
 * half of it.
 *
 * Behaviour: FAKE_CLI_STDOUT / FAKE_CLI_STDERR text to print,
 * FAKE_CLI_STDOUT_BYTES print that many bytes of 'x', FAKE_CLI_IGNORE_TERM
 * ignore SIGTERM, FAKE_CLI_SLEEP seconds (may be fractional), FAKE_CLI_EXIT
 * exit code.
 */

// First, so a slow start cannot let an early SIGTERM through.
if ( getenv( 'FAKE_CLI_IGNORE_TERM' ) ) {
    if ( ! function_exists( 'pcntl_signal' ) ) {
        fwrite( STDERR, "fake-cli: FAKE_CLI_IGNORE_TERM needs the pcntl extension\n" );
        exit( 70 );
    }
    pcntl_signal( SIGTERM, SIG_IGN );
}

function fake_put( string $file, string $content ) {
    $tmp = $file . '.tmp' . getmypid();
    file_put_contents( $tmp, $content );
    rename( $tmp, $file );
}

function fake_sid(): int {
    if ( function_exists( 'posix_getsid' ) ) {
        return (int) posix_getsid( 0 );
    }
    // /proc/self/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces.
    $stat = (string) @file_get_contents( '/proc/self/stat' );
    $rest = substr( $stat, (int) strrpos( $stat, ')' ) + 2 );
    $f    = explode( ' ', $rest );
    return (int) ( $f[3] ?? -1 );
}

$record = getenv( 'FAKE_CLI_RECORD' );
if ( is_string( $record ) && '' !== $record ) {
    $env = [];
    foreach ( getenv() as $k => $v ) {
        $env[] = "{$k}={$v}";
    }
    fake_put( "{$record}.argv", implode( "\0", $argv ) );
    fake_put( "{$record}.env", implode( "\0", $env ) );
    $stdio = [];
    foreach ( [ 0, 1, 2 ] as $fd ) {
        $stdio[] = @readlink( "/proc/self/fd/{$fd}" );
    }
    fake_put( "{$record}.json", json_encode( [ 'pid' => getmypid(), 'sid' => fake_sid(), 'cwd' => getcwd(), 'stdio' => $stdio ] ) );
}

$bytes = (int) getenv( 'FAKE_CLI_STDOUT_BYTES' );
if ( $bytes > 0 ) {
    echo str_repeat( 'x', $bytes );
}
$stdout = getenv( 'FAKE_CLI_STDOUT' );
if ( is_string( $stdout ) ) {
    echo $stdout;
}
$stderr = getenv( 'FAKE_CLI_STDERR' );
if ( is_string( $stderr ) ) {
    fwrite( STDERR, $stderr );
}

$sleep = (float) getenv( 'FAKE_CLI_SLEEP' );
if ( $sleep > 0 ) {
    usleep( (int) ( $sleep * 1e6 ) );
}

if ( is_string( $record ) && '' !== $record ) {
    fake_put( "{$record}.done", '1' );
}
exit( (int) getenv( 'FAKE_CLI_EXIT' ) );
