#!/usr/bin/env bash
# ansible-lint (Debian's) on the role and the test playbooks, from a copy so
# its caches and any fixes never land in the repo. $1: a temp dir to use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work="$1/lint"
rm -rf "$work" && mkdir -p "$work"
cp -a "$repo/ansible" "$work/ansible"
mkdir -p "$work/test" && cp -a "$here" "$work/test/ansible"
cp "$here/ansible-lint.yml" "$work/.ansible-lint"
cd "$work"
# The collection is found as the test runs find it; no galaxy install, no network.
export ANSIBLE_COLLECTIONS_PATH="$work/ansible/collections"
NO_COLOR=1 ansible-lint --offline --nocolor -p \
  ansible/collections/ansible_collections/bridgectl/wordpress/roles/server \
  test/ansible/playbooks
# The test's own shell scripts.
shellcheck "$here"/*.sh
