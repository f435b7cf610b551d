#!/bin/sh
# Stands in for systemctl inside the e2e namespace, where no systemd runs as
# PID 1. Every call is appended to the log the tier names (logs/systemctl.log). Reloading or restarting the
# php<version>-fpm service does what systemd would: SIGUSR2 to the master named in
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
               reload:php*-fpm*|restart:php*-fpm*|try-restart:php*-fpm*|reload-or-restart:php*-fpm*|try-reload-or-restart:php*-fpm*)
                   kill -USR2 "$(cat "/run/php/${arg%.service}.pid")" || exit 1 ;;
               is-active:php*-fpm*)
                   kill -0 "$(cat "/run/php/${arg%.service}.pid" 2>/dev/null)" 2>/dev/null || { echo inactive; exit 3; }
                   echo active ;;
           esac ;;
    esac
done
exit 0
