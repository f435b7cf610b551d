#!/bin/sh
# Stands in for systemctl inside the e2e namespace, where no systemd runs as
# PID 1. Every call is appended to the log the tier names (logs/systemctl.log). Reloading or restarting the
# php8.2-fpm service does what systemd would: SIGUSR2 to the master named in
# its pid file (php-fpm re-reads its config, starts new workers and so drops
# OPcache). Anything else succeeds without doing anything: the units bridgectl
# installs are files under the private /etc, and nothing runs them here.
printf '%s\n' "$*" >> @LOG@
verb=
for arg; do
    case $arg in
        -*) ;;
        *) if [ -z "$verb" ]; then verb=$arg; continue; fi
           case $verb:$arg in
               reload:php8.2-fpm*|restart:php8.2-fpm*|try-restart:php8.2-fpm*|reload-or-restart:php8.2-fpm*|try-reload-or-restart:php8.2-fpm*)
                   kill -USR2 "$(cat /run/php/php8.2-fpm.pid)" || exit 1 ;;
               is-active:php8.2-fpm*)
                   kill -0 "$(cat /run/php/php8.2-fpm.pid 2>/dev/null)" 2>/dev/null || { echo inactive; exit 3; }
                   echo active ;;
           esac ;;
    esac
done
exit 0
