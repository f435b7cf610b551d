# Sourced by test/sudo/namespace.sh (its optional last argument) inside the
# e2e tier's private mount and PID namespace, after the throwaway users and
# the empty /etc/sudoers.d, /usr/local/bin and /usr/local/lib are in place.
# It makes private everything else the daemons and bridgectl write, so the
# host is unchanged when the namespace ends:
#   /etc      a copy of this namespace's view (users and sudoers.d included),
#             with api.telegram.org at 127.0.0.1, the test CA trusted, and a
#             site config in /etc/wordpress; bridgectl's /etc/bridgectl and
#             /etc/systemd/system land here too
#   /run      empty (php-fpm's socket and pid, MariaDB's socket, sudo's state)
#   /var/log  empty (php-fpm's stock error_log, nginx's compiled-in log)
# $T is the scratch dir; the test has written $T/ca.pem and $T/wp-host.php.

install -d -m 0755 "$T/etc"
cp -a /etc/. "$T/etc/"
mount --bind "$T/etc" /etc
printf '127.0.0.1\tapi.telegram.org\n' >>/etc/hosts
cat "$T/ca.pem" >>/etc/ssl/certs/ca-certificates.crt
install -d -m 0755 /etc/wordpress
install -m 0640 -g www-data "$T/wp-host.php" /etc/wordpress/config-127.0.0.1.php

mount -t tmpfs -o mode=0755 tmpfs /run
install -d -o www-data -g www-data -m 0755 /run/php
install -d -o mysql -g root -m 0755 /run/mysqld
mount -t tmpfs -o mode=0755 tmpfs /var/log
install -d -m 0755 /var/log/nginx
# bridgectl asks systemd only where it runs (/run/systemd/system); here the
# systemctl it finds is test/e2e/systemctl.sh, which reloads php-fpm for real.
install -d -m 0755 /run/systemd/system
