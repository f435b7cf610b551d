#!/bin/sh
# A stand-in for kimaki in bridgectl's dispatch tests. It records how it was
# run (argv and environment NUL-separated, working directory, uid and gid)
# in a new directory under RECORDS, then does to the disk what `kimaki send`
# does: creates ./tmp under its working directory and its database in the
# data dir, failing with exit 64 like kimaki when it cannot. Its exit status
# is recorded last, so a detached run can be waited for.
RECORDS=@RECORDS@
call="$RECORDS/call.$$"
finish() {
    if [ -d "$call" ]; then printf '%s' "$1" > "$call/exit.tmp" && mv "$call/exit.tmp" "$call/exit"; fi
    exit "$1"
}
if mkdir "$call"; then
    printf '%s\0' "$@" > "$call/argv"
    env -0 > "$call/env"
    pwd -P > "$call/cwd"
    id -u > "$call/uid"
    id -g > "$call/gid"
fi
mkdir -p tmp || { echo "kimaki: EACCES: mkdir $(pwd -P)/tmp" >&2; finish 64; }
data=${KIMAKI_DATA_DIR:-$HOME/.kimaki}
{ mkdir -p "$data" && : >> "$data/fake-kimaki.db"; } || { echo "kimaki: Failed to create data directory $data" >&2; finish 64; }
[ -d "$call" ] && : > "$call/done"
echo "fake kimaki: sent"
finish 0
