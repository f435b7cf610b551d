#!/usr/bin/env bash
# npm run demo: install kimaki into a throwaway sandbox root, show what was
# written, show that the deploy-time upgrade is a no-op, then doctor's failure
# on a standard 0750 home and the fix it names (the sudo hop) turning it green.
# Touches nothing outside the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/bridgectl.cjs ] || npm run --silent build
bridgectl() { node dist/bridgectl.cjs "$@"; }

root=$(mktemp -d "${TMPDIR:-/tmp}/bridgectl-demo.XXXXXX")
chmod 0755 "$root"   # its "/" as a server has it: searchable by everyone
# The service user gets a uid of its own, as on a server (so nothing runs "as root");
# only root can chown to it, so a non-root demo falls back to the invoker's uid.
if [ "$(id -u)" -eq 0 ]; then
  svc_uid=1001
  while getent passwd "$svc_uid" >/dev/null 2>&1 || getent group "$svc_uid" >/dev/null 2>&1; do svc_uid=$((svc_uid + 1)); done
  svc_gid=$svc_uid
else
  svc_uid=$(id -u); svc_gid=$(id -g)
  echo "# not root: the sandbox's service user gets your uid ($svc_uid); run as root for the whole demo"
fi
mkdir -p "$root/etc" "$root/home/opencode" "$root/var/www/html/wp-content" "$root/usr/local/bin"
cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/bash
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
opencode:x:$svc_uid:$svc_gid:opencode:/home/opencode:/bin/bash
PASSWD
printf 'root:x:0:\nwww-data:x:33:\nopencode:x:%s:\n' "$svc_gid" > "$root/etc/group"
chmod 0750 "$root/home/opencode"
[ "$(id -u)" -ne 0 ] || chown "$svc_uid:$svc_gid" "$root/home/opencode"
# A WordPress root, as bridgectl expects one: wp-config.php and wp-includes/.
mkdir -p "$root/var/www/html/wp-includes"
printf '<?php\n// the demo site\n' > "$root/var/www/html/wp-config.php"
printf '#!/bin/sh\nexit 0\n' > "$root/usr/local/bin/kimaki" && chmod 0755 "$root/usr/local/bin/kimaki"

echo "# sandbox root: $root"
echo "\$ bridgectl install --bridge kimaki --site /var/www/html --service-user opencode --root $root"
bridgectl install --bridge kimaki --site /var/www/html --service-user opencode --root "$root"
file="$root/var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php"
echo
echo "# what it wrote: /var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php ($(stat -c %a "$file"))"
cat "$file"
echo
echo "# and the unit, from the same identity: /etc/systemd/system/kimaki.service"
cat "$root/etc/systemd/system/kimaki.service"
echo
echo "\$ bridgectl upgrade --site /var/www/html --root $root    # every deploy: adopts the installed identity"
bridgectl upgrade --site /var/www/html --root "$root"
echo
echo "\$ bridgectl doctor --site /var/www/html --root $root    # will a dispatch from WP-cron (as www-data) work?"
# The home is 0750, as on a standard server: doctor is expected to fail here and say why.
if bridgectl doctor --site /var/www/html --root "$root"; then
  echo "# doctor passed before the fix: the sandbox is not the standard server it should be" >&2
  exit 1
fi
echo "# doctor exited 1: www-data cannot enter opencode's home. The fix it names: the sudo hop."
echo
echo "\$ bridgectl upgrade --site /var/www/html --dispatch sudo --root $root"
bridgectl upgrade --site /var/www/html --dispatch sudo --root "$root"
echo
echo "\$ bridgectl doctor --site /var/www/html --root $root"
if [ "$(id -u)" -eq 0 ]; then
  bridgectl doctor --site /var/www/html --root "$root"
  echo "# doctor passes: kimaki now runs as opencode, through sudo"
else
  # sudo trusts only root's files, and only root can create them: here they are ours.
  bridgectl doctor --site /var/www/html --root "$root" || true
  echo "# not root: the hop's files are owned by you, not root, and doctor fails exactly those checks;"
  echo "# run the demo as root (sudo npm run demo) to see it pass"
fi
echo
echo "# remove the sandbox with: rm -rf $root"
