#!/usr/bin/env bash
# ansible-test sanity on the collection, locally (no containers), offline:
# the tests' Python requirements come from Debian's packages (see
# seed-sanity-venvs.py). Runs on a copy, so tests/output never lands in the
# repo. $1: a temp dir to use (its home/ is HOME).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work="$1/sanity/ansible_collections/bridgectl"
rm -rf "$work" && mkdir -p "$work" "$1/home"
cp -a "$repo/ansible/collections/ansible_collections/bridgectl/wordpress" "$work/wordpress"
cd "$work/wordpress"
export HOME="$1/home"
py=/usr/bin/python3
version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# Needs a tool that is not here: pslint (PowerShell). Everything else runs.
skip=(--skip-test pslint)
tests=(ansible-doc validate-modules yamllint pep8 pylint import runtime-metadata changelog)
"$py" "$here/seed-sanity-venvs.py" "${tests[@]}"
ansible-test sanity --local --python "$version" --python-interpreter "$py" "${skip[@]}" --color no
