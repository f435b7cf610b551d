#!/usr/bin/env bash
# Run as root under `unshare --mount --propagation private`: gives this mount
# namespace three throwaway users and private, empty install directories,
# then holds it open until stdin closes. Nothing is visible outside the
# namespace, and nothing is left behind when it ends: the host's passwd,
# sudoers.d, systemd units, /usr/local/bin and /usr/local/lib are never written.
#
#   namespace.sh <scratch dir> <web uid> <service uid> <other uid> [extra setup]
#
# The optional extra setup is a script sourced last, before "ready" (the
# real-WordPress tier, test/e2e, adds its daemons' private paths there).
#
# Users: bctlweb (PHP's user), bctlsvc (the bridge's), bctlother (granted
# nothing). Their homes and the site live in the scratch dir, which the
# caller removes.
set -euo pipefail
T=$1 WEB=$2 SVC=$3 OTHER=$4

# useradd cannot edit a bind-mounted file, so the users are appended to copies.
for db in passwd group shadow; do cp -p "/etc/$db" "$T/etc-$db"; done
cat >>"$T/etc-passwd" <<USERS
bctlweb:x:$WEB:$WEB:bridgectl test web user:$T/www:/usr/sbin/nologin
bctlsvc:x:$SVC:$SVC:bridgectl test service user:$T/home/bctlsvc:/bin/sh
bctlother:x:$OTHER:$OTHER:bridgectl test other user:$T/other:/usr/sbin/nologin
USERS
printf 'bctlweb:x:%s:\nbctlsvc:x:%s:\nbctlother:x:%s:\n' "$WEB" "$SVC" "$OTHER" >>"$T/etc-group"
printf 'bctlweb:*:19000:0:99999:7:::\nbctlsvc:*:19000:0:99999:7:::\nbctlother:*:19000:0:99999:7:::\n' >>"$T/etc-shadow"
for db in passwd group shadow; do mount --bind "$T/etc-$db" "/etc/$db"; done

# 0755, not 1777: sudo ignores every grant in a world-writable includedir.
mount -t tmpfs -o mode=0755 tmpfs /etc/sudoers.d
# install writes service units (cc-connect's, on a switch to sudo): here, not on the host.
mount -t tmpfs -o mode=0755 tmpfs /etc/systemd/system
# sudo's own log, to show that no message body reaches it.
printf 'Defaults logfile=%s/sudo.log\n' "$T" >/etc/sudoers.d/zz-bridgectl-test-log
chmod 0440 /etc/sudoers.d/zz-bridgectl-test-log

# Empty install dirs that still offer what was there (node or php may live
# in /usr/local/bin): the originals stay reachable through symlinks.
for dir in /usr/local/bin /usr/local/lib; do
    keep="$T/keep${dir//\//-}"
    mkdir -p "$keep"
    mount --bind "$dir" "$keep"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
    for entry in "$keep"/* "$keep"/.[!.]*; do
        if [ -e "$entry" ] || [ -L "$entry" ]; then ln -s "$entry" "$dir/"; fi
    done
done

# No PHP-FPM pools: bridgectl must not reload the host's own php-fpm from here.
# The e2e tier (an extra setup, $5) keeps them: it runs its own php-fpm with
# Debian's stock pool, in a PID namespace where no host php-fpm can be signalled.
if [ -z "${5-}" ]; then
    for pools in /etc/php/*/fpm/pool.d; do
        if [ -d "$pools" ]; then mount -t tmpfs -o mode=0755 tmpfs "$pools"; fi
    done
fi

install -d -m 0755 "$T/www" "$T/other" "$T/home" "$T/site/wp-content" "$T/site/wp-includes"
# --site must be a WordPress root: wp-includes/ and a wp-config.php.
printf '<?php\n// the live test site\n' > "$T/site/wp-config.php"
install -d -o "$SVC" -g "$SVC" -m 0750 "$T/home/bctlsvc"
install -d -m 1777 "$T/records"

if [ -n "${5-}" ]; then . "$5"; fi

echo ready
# A shell loop rather than `exec cat`: run as the init of a PID namespace
# (the e2e tier), bash also reaps the orphans reparented to it.
while IFS= read -r _; do :; done
