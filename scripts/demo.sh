#!/usr/bin/env bash
# npm run demo: install kimaki into a throwaway sandbox root, show what was
# written, then show that the deploy-time upgrade is a no-op. Touches nothing
# outside the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/bridgectl.cjs ] || npm run --silent build
bridgectl() { node dist/bridgectl.cjs "$@"; }

root=$(mktemp -d "${TMPDIR:-/tmp}/bridgectl-demo.XXXXXX")
chmod 0755 "$root"   # its "/" as a server has it: searchable by everyone
svc_uid=$(id -u); svc_gid=$(id -g)   # the sandbox's service user is whoever runs the demo
mkdir -p "$root/etc" "$root/home/opencode" "$root/var/www/html/wp-content" "$root/var/www/html/wp-includes" "$root/usr/local/bin"
printf '<?php\n// the demo site: --site must be a WordPress root\n' > "$root/var/www/html/wp-config.php"
cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/bash
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
opencode:x:$svc_uid:$svc_gid:opencode:/home/opencode:/bin/bash
PASSWD
printf 'root:x:0:\nwww-data:x:33:\n' > "$root/etc/group"
chmod 0750 "$root/home/opencode"
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
bridgectl doctor --site /var/www/html --root "$root" || echo "# doctor exited $?: see its fixes above (e.g. --dispatch sudo)"
echo
echo "# remove the sandbox with: rm -rf $root"
