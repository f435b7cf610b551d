#!/usr/bin/env bash
# npm run test:ansible: the Ansible collection, tested with Ansible itself.
#
# Packs bridgectl, starts a throwaway sshd on 127.0.0.1, and runs the fleet
# playbooks over four hosts (three sandbox roots over the local connection,
# one over real SSH), asserting what issue #20 asks: check mode changes
# nothing, the first run writes, the second reports changed=false everywhere,
# diff mode shows the block, state=absent removes exactly the named blocks, a
# failing doctor fails its host only, and the token never reaches the output
# at -vvv. Then ansible-doc, ansible-lint and ansible-test sanity.
#
# Everything lives in one temp dir (HOME included, so nothing reads ~/.ssh or
# writes ~/.ansible); sshd is stopped and the dir removed on any exit.
# BRIDGECTL_ANSIBLE_KEEP=1 keeps the dir for a post-mortem.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# The checkout whose package is tested: the repo itself (a draft may point elsewhere).
src=${BRIDGECTL_SRC:-$repo}
collection="$repo/ansible/collections/ansible_collections/bridgectl/wordpress"
py=/usr/bin/python3   # Debian's, the one ansible-core runs on

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
pass() { echo "ok   $*"; }

[ "$(id -u)" = 0 ] || fail "run as root: the sandboxes chown the service user's home and the sudo hop's files (CI runs as root)"
for tool in ansible-playbook ansible-doc ansible-lint ansible-test ssh ssh-keygen npm node "$py"; do
  command -v "$tool" >/dev/null || fail "$tool is missing (.ci/run installs ansible-core, ansible-lint and openssh)"
done
[ -x /usr/sbin/sshd ] || fail "/usr/sbin/sshd is missing (package openssh-server)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bridgectl-ansible.XXXXXX")
chmod 0755 "$tmp"
sshd_pid=""
made_privsep=""
cleanup() {
  local rc=$?
  # Ansible's ssh masters persist after the play (ControlPersist): close them, so
  # their sessions end, then stop the sshd this script started.
  local sock
  for sock in "$tmp"/cp/*; do
    if [ -S "$sock" ]; then HOME="$tmp/home" ssh -F /dev/null -o ControlPath="$sock" -O exit 127.0.0.1 2>/dev/null || true; fi
  done
  if [ -n "$sshd_pid" ]; then kill "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; fi
  if [ -n "$made_privsep" ]; then rmdir /run/sshd 2>/dev/null || true; fi
  if [ "${BRIDGECTL_ANSIBLE_KEEP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp/home" "$tmp/logs" "$tmp/pkg" "$tmp/ssh"
token='1234567890:AAfake-ansible_TOKEN_never-shown'

# --- the package --------------------------------------------------------------
step "pack bridgectl from $src"
(cd "$src" && npm pack --silent --pack-destination "$tmp/pkg" >"$tmp/logs/npm-pack.log" 2>&1) \
  || { cat "$tmp/logs/npm-pack.log"; fail "npm pack"; }
tarball=$(ls "$tmp"/pkg/*.tgz)
# The package has no runtime dependencies (#19), so the role's install stays offline.
pass "package $(basename "$tarball")"

# --- a throwaway sshd on 127.0.0.1 ------------------------------------------------
step "start sshd"
ssh-keygen -q -t ed25519 -N '' -C bridgectl-test-host -f "$tmp/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -C bridgectl-test-client -f "$tmp/ssh/client_key"
cp "$tmp/ssh/client_key.pub" "$tmp/ssh/authorized_keys"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $tmp/ssh/host_key
PidFile $tmp/ssh/sshd.pid
AuthorizedKeysFile $tmp/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
# sshd insists on its privilege separation directory; made only if absent, removed after.
if [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd; made_privsep=1; fi
/usr/sbin/sshd -t -f "$tmp/ssh/sshd_config" || fail "sshd rejected its test config"
/usr/sbin/sshd -D -e -f "$tmp/ssh/sshd_config" 2>"$tmp/logs/sshd.log" &
sshd_pid=$!
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$tmp/ssh/host_key.pub")" >"$tmp/ssh/known_hosts"
ssh_opts=(-F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes
  -o UserKnownHostsFile="$tmp/ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null
  -o StrictHostKeyChecking=yes -i "$tmp/ssh/client_key" -p "$port")
for _ in $(seq 1 50); do
  kill -0 "$sshd_pid" 2>/dev/null || { cat "$tmp/logs/sshd.log"; fail "sshd exited"; }
  HOME="$tmp/home" ssh "${ssh_opts[@]}" root@127.0.0.1 true 2>/dev/null && break
  sleep 0.1
done
HOME="$tmp/home" ssh "${ssh_opts[@]}" root@127.0.0.1 true || fail "cannot ssh to 127.0.0.1:$port"
pass "sshd on 127.0.0.1:$port (pid $sshd_pid)"

# --- Ansible's environment ----------------------------------------------------
export HOME="$tmp/home" LC_ALL=C.UTF-8 ANSIBLE_NOCOLOR=1
export ANSIBLE_CONFIG="$here/ansible.cfg" ANSIBLE_HOME="$tmp/home/.ansible"
export ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" ANSIBLE_REMOTE_TEMP="$tmp/ansible-remote"
export ANSIBLE_SSH_CONTROL_PATH_DIR="$tmp/cp"
export BRIDGECTL_ANSIBLE_DIR="$tmp" BRIDGECTL_TARBALL="$tarball" BRIDGECTL_SSH_PORT="$port" BRIDGECTL_TEST_TOKEN="$token"
cd "$here"

# play NAME EXPECTED_RC ARGS...: ansible-playbook at -vvv, output and record kept per run.
play() {
  local name=$1 want=$2 rc=0
  shift 2
  BRIDGECTL_RECORD="$tmp/logs/$name.jsonl" ansible-playbook -vvv "$@" >"$tmp/logs/$name.log" 2>&1 || rc=$?
  if [ "$rc" != "$want" ]; then
    grep -E '^(fatal|failed|TASK|PLAY RECAP)|^[a-z]+ +: ok=' "$tmp/logs/$name.log" | tail -n 40 >&2 || true
    fail "$name: ansible-playbook exited $rc, expected $want"
  fi
}
expect() { # expect STEP NAME
  "$py" "$here/results.py" "$1" "$tmp/logs/$2.jsonl" || fail "$2: the run did not do what $1 expects"
}
# Each host's files (sandbox root, npm prefix, package cache): path, type, mode, owner, size and content hash.
snapshot() {
  (cd "$tmp" && for host in alpha beta gamma delta; do
    find "$host" -printf '%p %y %m %U:%G %s\n' | sort
    find "$host" -type f -print0 | sort -z | xargs -0 -r sha256sum
  done)
}

step "unit tests of the JSON-to-Ansible translation"
PYTHONPATH="$repo/ansible/collections" "$py" -m unittest -q ansible_collections.bridgectl.wordpress.tests.unit.plugins.module_utils.test_bridgectl \
  >"$tmp/logs/unit.log" 2>&1 || { cat "$tmp/logs/unit.log"; fail "unit tests"; }
pass "module_utils unit tests"

step "ansible-galaxy builds the collection"
ansible-galaxy collection build --output-path "$tmp/build" "$collection" >"$tmp/logs/galaxy-build.log" 2>&1 \
  || { cat "$tmp/logs/galaxy-build.log"; fail "ansible-galaxy collection build"; }
pass "$(basename "$tmp"/build/*.tar.gz)"

step "ansible-doc renders the documentation"
for module in bridges doctor channel; do
  ansible-doc "bridgectl.wordpress.$module" >"$tmp/logs/doc-$module.txt" 2>&1 || { cat "$tmp/logs/doc-$module.txt"; fail "ansible-doc $module"; }
  if ! grep -q '^OPTIONS' "$tmp/logs/doc-$module.txt" || ! grep -q '^EXAMPLES' "$tmp/logs/doc-$module.txt"; then
    fail "ansible-doc bridgectl.wordpress.$module shows no options or examples"
  fi
done
ansible-doc -t role bridgectl.wordpress.server >"$tmp/logs/doc-role.txt" 2>&1 || { cat "$tmp/logs/doc-role.txt"; fail "ansible-doc -t role"; }
grep -q bridgectl_tarball "$tmp/logs/doc-role.txt" || fail "ansible-doc -t role bridgectl.wordpress.server shows no options"
pass "ansible-doc: bridges, doctor, channel, role server"

step "prepare four sandbox servers (one over ssh)"
play prepare 0 playbooks/prepare.yml
expect clean prepare
pass "sandboxes ready"

step "check mode on a host without bridgectl: nothing to plan yet, nothing written"
snapshot >"$tmp/logs/before-fresh.txt"
play fresh 0 playbooks/site.yml --check --limit alpha
snapshot >"$tmp/logs/after-fresh.txt"
diff -u "$tmp/logs/before-fresh.txt" "$tmp/logs/after-fresh.txt" || fail "check mode on a fresh host wrote something"
expect fresh fresh
pass "fresh host in check mode: skipped with a reason"

step "role: install bridgectl from the tarball"
play install 0 playbooks/site.yml --tags bridgectl_install
expect install install
for host in alpha beta gamma delta; do
  [ "$("$tmp/$host/prefix/bin/bridgectl" --version)" = "$(tar -xzOf "$tarball" package/package.json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["version"])')" ] \
    || fail "$host: the installed bridgectl is not the packed version"
done
pass "installed on every host"

step "check mode (--check --diff): reports changed, writes nothing"
snapshot >"$tmp/logs/before-check.txt"
play check 0 playbooks/site.yml --check --diff
snapshot >"$tmp/logs/after-check.txt"
diff -u "$tmp/logs/before-check.txt" "$tmp/logs/after-check.txt" || fail "check mode wrote to a sandbox"
expect check check
grep -q '+    // BEGIN bridge:kimaki' "$tmp/logs/check.log" || fail "--diff output does not show the kimaki block"
pass "check mode: changed on every host, every sandbox byte-identical, diff shows the block"

step "first run: writes; delta's doctor fails with its message, the others complete"
play apply 2 playbooks/site.yml --diff
expect apply apply
for host in alpha beta gamma delta; do
  grep -q '// BEGIN bridge:kimaki' "$tmp/$host/root/var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php" \
    || fail "$host: no kimaki block written"
done
grep -q '// BEGIN bridge:telegram' "$tmp/beta/root/var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php" || fail "beta: no telegram block"
grep -q '// BEGIN bridge:notify' "$tmp/alpha/root/var/www/html/wp-content/mu-plugins/wp-coding-agents-channels.php" || fail "alpha: no notify channel"
grep -qF "$token" "$tmp/beta/root/etc/bridgectl/telegram.curl" || fail "beta: the token file does not hold the token"
grep -E '^delta +: .*failed=1' "$tmp/logs/apply.log" >/dev/null || fail "delta's recap does not show its failure"
# gamma really went over SSH; the sandboxes over the local connection.
grep -qF "<127.0.0.1> ESTABLISH SSH CONNECTION FOR USER: root" "$tmp/logs/apply.log" || fail "gamma was not reached over ssh"
grep -qF "<alpha> ESTABLISH LOCAL CONNECTION FOR USER: root" "$tmp/logs/apply.log" || fail "alpha did not use the local connection"
pass "written on every host; delta failed at doctor only"

step "second run: changed=false on every host"
play again 2 playbooks/site.yml --diff
expect again again
for host in alpha beta gamma delta; do
  grep -E "^$host +: .* changed=0 " "$tmp/logs/again.log" >/dev/null || fail "$host: the recap of the second run shows a change"
done
pass "second run: ok, changed=0 everywhere"

step "state=absent removes exactly the named blocks"
play absent 0 playbooks/absent.yml --diff
expect clean absent
pass "telegram removed from beta, nothing else"

step "modules: failures carry bridgectl's message, channels, doctor's fail_on"
play modules 0 playbooks/modules.yml
expect clean modules
pass "module behaviour"

step "the token never reaches the output"
for name in prepare fresh install check apply again absent modules; do
  for file in "$tmp/logs/$name.log" "$tmp/logs/$name.jsonl"; do
    if grep -qF "$token" "$file"; then fail "the telegram token appears in $(basename "$file")"; fi
  done
  # The token's secret half alone must not leak either.
  if grep -qF "${token#*:}" "$tmp/logs/$name.log"; then fail "part of the token appears in $name.log"; fi
done
grep -q 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER\|<redacted>' "$tmp/logs/modules.log" || fail "no sign of no_log masking in modules.log (did the secret tests run?)"
pass "no token in any -vvv output or record"

step "ansible-lint: role and playbooks"
"$here/lint.sh" "$tmp" || fail "ansible-lint"
pass "ansible-lint"

step "ansible-test sanity"
"$here/sanity.sh" "$tmp" || fail "ansible-test sanity"
pass "ansible-test sanity"

echo "all Ansible tests passed"
