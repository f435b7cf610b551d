#!/bin/sh
# In front of the real curl for the telegram channel: records how it was run
# (as test/sudo/fake-kimaki.sh does: argv and environment NUL-separated,
# working directory, uid, gid, exit status last), then runs /usr/bin/curl
# with the same arguments, against the test's TLS endpoint.
RECORDS=@RECORDS@
call="$RECORDS/call.$$"
if mkdir "$call"; then
    printf '%s\0' "$@" > "$call/argv"
    env -0 > "$call/env"
    pwd -P > "$call/cwd"
    id -u > "$call/uid"
    id -g > "$call/gid"
fi
/usr/bin/curl "$@"
status=$?
if [ -d "$call" ]; then
    [ "$status" = 0 ] && : > "$call/done"
    printf '%s' "$status" > "$call/exit.tmp" && mv "$call/exit.tmp" "$call/exit"
fi
exit "$status"
