#!/bin/sh
# A stand-in for cc-connect in bridgectl's dispatch tests. It records how it
# was run, as fake-kimaki.sh does (argv and environment NUL-separated,
# working directory, uid and gid, and its exit status last), then does what
# `cc-connect send` does before it sends: looks for the daemon's socket,
# <data dir>/run/api.sock, the data dir being --data-dir, else
# $HOME/.cc-connect, and exits 1 when it is not there or this user may not
# connect to it (connecting to a socket needs write permission on it). Its arguments are
# read as cc-connect reads them: a flag that takes a value takes the next
# argument whatever it is.
RECORDS=@RECORDS@
call="$RECORDS/call.$$"
finish() {
    if [ -d "$call" ]; then printf '%s' "$1" > "$call/exit.tmp" && mv "$call/exit.tmp" "$call/exit"; fi
    exit "$1"
}
fail() {
    echo "$1" >&2
    if [ -d "$call" ]; then printf '%s\n' "$1" > "$call/error"; fi
    finish 1
}
if mkdir "$call"; then
    printf '%s\0' "$@" > "$call/argv"
    env -0 > "$call/env"
    pwd -P > "$call/cwd"
    id -u > "$call/uid"
    id -g > "$call/gid"
fi
[ "${1-}" = send ] || { echo "fake cc-connect: only send is faked" >&2; finish 2; }
shift
data=$HOME/.cc-connect
while [ "$#" -gt 0 ]; do
    case $1 in
        --data-dir) [ "$#" -ge 2 ] || break; data=$2; shift 2 ;;
        --project|-p|--message|-m|--session|-s) [ "$#" -ge 2 ] || break; shift 2 ;;
        *) shift ;;
    esac
done
sock=$data/run/api.sock
[ -S "$sock" ] || fail "Error: cc-connect is not running (socket not found: $sock)"
[ -w "$sock" ] || fail "Error: dial unix $sock: connect: permission denied"
[ -d "$call" ] && : > "$call/done"
echo "Message sent successfully."
finish 0
