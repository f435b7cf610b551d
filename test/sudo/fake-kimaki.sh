#!/bin/sh
# A stand-in for kimaki in bridgectl's dispatch tests. It records how it was
# run (argv and environment NUL-separated, working directory, uid and gid)
# in a new directory under RECORDS, then does to the disk what `kimaki send`
# does: creates ./tmp under its working directory and its database in the
# data dir, failing with exit 64 like kimaki when it cannot. Its exit status
# is recorded last, so a detached run can be waited for; a failure's message
# is recorded too (a detached run's stderr goes nowhere).
RECORDS=@RECORDS@
call="$RECORDS/call.$$"
finish() {
    if [ -d "$call" ]; then printf '%s' "$1" > "$call/exit.tmp" && mv "$call/exit.tmp" "$call/exit"; fi
    exit "$1"
}
fail() {
    echo "kimaki: $1" >&2
    if [ -d "$call" ]; then printf '%s\n' "$1" > "$call/error"; fi
    finish 64
}
if mkdir "$call"; then
    printf '%s\0' "$@" > "$call/argv"
    env -0 > "$call/env"
    pwd -P > "$call/cwd"
    id -u > "$call/uid"
    id -g > "$call/gid"
fi
mkdir -p tmp || fail "EACCES: mkdir $(pwd -P)/tmp"
data=${KIMAKI_DATA_DIR:-$HOME/.kimaki}
mkdir -p "$data" || fail "Failed to create data directory $data"
# true, not ":": a failed redirection on a special builtin would end the shell.
true >> "$data/fake-kimaki.db" || fail "EACCES: open $data/fake-kimaki.db"
[ -d "$call" ] && : > "$call/done"
echo "fake kimaki: sent"
finish 0
