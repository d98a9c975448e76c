#!/usr/bin/env bash
# Two test hosts on this machine, `a` and `b`, for migration tests and manual tries. Each is a network
# namespace running its own real sshd; the two are joined by one veth pair, and nothing of theirs is
# reachable from (or reaches) the machine's own network.
#
#   eval "$(scripts/test-hosts.sh up)"    # A_DEST B_DEST A_HOME B_HOME SSH_CONFIG on stdout, nothing else
#   scripts/test-hosts.sh run a ssh b hostname
#   scripts/test-hosts.sh cut | heal      # veth down / up on both ends
#   scripts/test-hosts.sh status          # exit 0 only when both hosts are up and reach each other
#   scripts/test-hosts.sh down            # MUST succeed whatever exists, also after a failed `up`
#
# Env: SNAPVM_TEST_HOSTS_PREFIX (namespace names, default "snapvm": snapvm-a, snapvm-b) and
# SNAPVM_TEST_HOSTS_DIR (state dir, default /tmp/snapvm-test-hosts). Parallel runs need both distinct;
# the addresses below are the same in every pair, which is fine because they only exist inside it.
# One caller at a time per state dir: there is no lock.
#
# State dir layout: .snapvm-test-hosts (marker: `down` removes only a dir that has it), prefix, env (what
# `up` printed), client_ed25519{,.pub}, authorized_keys, known_hosts, ssh_config, bin/{ssh,scp,sftp}
# (wrappers adding -F ssh_config), and per host a/ b/: sshd_config, ssh_host_ed25519_key, sshd.pid,
# sshd.log, home/ (its SNAPVM_HOME).
set -euo pipefail

PREFIX=${SNAPVM_TEST_HOSTS_PREFIX:-snapvm}
STATE=${SNAPVM_TEST_HOSTS_DIR:-/tmp/snapvm-test-hosts}
HOSTS=(a b)
# A private range used for nothing else by the project; only ever assigned inside the namespaces.
declare -A ADDR=([a]=10.231.0.1 [b]=10.231.0.2)
PREFIX_LEN=24
DEV=veth0 # the veth end's name inside each namespace
SSHD=/usr/sbin/sshd
MARKER=.snapvm-test-hosts

say() { echo "test-hosts: $*" >&2; }
die() { echo "test-hosts: $*" >&2; exit 1; }

[[ $PREFIX =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ ]] ||
  die "SNAPVM_TEST_HOSTS_PREFIX must be 1-40 of [A-Za-z0-9_.-], starting with a letter or digit (got '$PREFIX')"
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac
STATE=${STATE%/}
# Paths go unquoted into ssh_config, sshd_config and ssh:// URLs: keep them plain.
[[ $STATE =~ ^/[A-Za-z0-9._/-]+$ && $STATE != *..* ]] ||
  die "SNAPVM_TEST_HOSTS_DIR must be a path of [A-Za-z0-9._/-] without '..' (got '$STATE')"

ns_of() { echo "$PREFIX-$1"; }
ns_exists() { [ -e "/run/netns/$1" ]; }
other_of() { if [ "$1" = a ]; then echo b; else echo a; fi; }

need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces): run it as root"; }

# The sshd whose PidFile is in host $1's dir, if it is alive, is an sshd, and lives in namespace $2.
sshd_pid() {
  local pid
  pid=$(cat "$STATE/$1/sshd.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] || return 1
  [ "$(ip netns identify "$pid" 2>/dev/null)" = "$2" ] || return 1
  echo "$pid"
}

# Runs "$@" in host $1's namespace as `run` does. Used by `run` and by the health probe.
in_host() {
  local host=$1
  shift
  exec ip netns exec "$(ns_of "$host")" env \
    SNAPVM_HOME="$STATE/$host/home" SNAPVM_SSH_CONFIG="$STATE/ssh_config" SNAPVM_TEST_HOST="$host" \
    PATH="$STATE/bin:$PATH" "$@"
}

# Healthy: the state dir is ours and for this prefix, both sshds run in their namespaces, the links are
# up, and each host logs in to the other with the client key and the pinned host keys.
healthy() {
  local h
  [ -f "$STATE/$MARKER" ] && [ -f "$STATE/env" ] || return 1
  [ "$(cat "$STATE/prefix" 2>/dev/null)" = "$PREFIX" ] || return 1
  for h in "${HOSTS[@]}"; do
    ns_exists "$(ns_of "$h")" || return 1
    sshd_pid "$h" "$(ns_of "$h")" >/dev/null || return 1
    ip -n "$(ns_of "$h")" -o link show "$DEV" 2>/dev/null | grep -q 'state UP' || return 1
  done
  for h in "${HOSTS[@]}"; do
    (in_host "$h" ssh -o ConnectTimeout=3 "$(other_of "$h")" true) </dev/null >/dev/null 2>&1 || return 1
  done
}

# Kills every process in namespace $1: TERM, then KILL after ~2 s.
kill_ns_procs() {
  local ns=$1 i pids
  for i in $(seq 40); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    if [ "$i" -le 20 ]; then
      # shellcheck disable=SC2086 # one pid a word
      kill -TERM $pids 2>/dev/null || true
    else
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
    sleep 0.1
  done
  say "processes still in $ns after SIGKILL: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
}

# Removes host pair $1 (a prefix). Each step tolerates its object being absent.
teardown_prefix() {
  local prefix=$1 h ns pid
  for h in "${HOSTS[@]}"; do
    ns="$prefix-$h"
    # 1. The sshd by its PidFile (only if it really is ours), 2. anything else left in the namespace.
    if pid=$(sshd_pid "$h" "$ns"); then kill -TERM "$pid" 2>/dev/null || true; fi
    if ns_exists "$ns"; then
      kill_ns_procs "$ns"
      # 3. The veth goes with its namespace; deleting it first is only belt and braces.
      ip -n "$ns" link del "$DEV" 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || say "could not delete namespace $ns"
    fi
  done
}

cmd_down() {
  need_root
  local recorded
  recorded=$(cat "$STATE/prefix" 2>/dev/null || true)
  teardown_prefix "$PREFIX"
  if [ -n "$recorded" ] && [ "$recorded" != "$PREFIX" ] && [[ $recorded =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ ]]; then
    teardown_prefix "$recorded"
  fi
  if [ -d "$STATE" ]; then
    if [ -f "$STATE/$MARKER" ] || [ -z "$(ls -A "$STATE")" ]; then
      rm -rf -- "$STATE"
    else
      die "$STATE is not a test-hosts state dir (no $MARKER): not removing it"
    fi
  fi
  local ns left=0
  for h in "${HOSTS[@]}"; do
    ns=$(ns_of "$h")
    if ns_exists "$ns"; then say "namespace $ns is still there"; left=1; fi
  done
  [ "$left" -eq 0 ] || exit 1
}

write_sshd_config() {
  local h=$1 d="$STATE/$1"
  cat >"$d/sshd_config" <<EOF
# sshd for snapvm test host $h (scripts/test-hosts.sh); runs in namespace $(ns_of "$h").
ListenAddress ${ADDR[$h]}:22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The state dir is under /tmp, which is world-writable.
StrictModes no
# Tests open many connections at once.
MaxStartups 100:30:200
MaxSessions 50
# A login on this host sees this host's home, and ssh/scp reach the other host.
SetEnv SNAPVM_HOME=$d/home SNAPVM_SSH_CONFIG=$STATE/ssh_config SNAPVM_TEST_HOST=$h PATH=$STATE/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Subsystem sftp internal-sftp
LogLevel INFO
EOF
}

write_client_files() {
  local h real tool
  : >"$STATE/known_hosts"
  for h in "${HOSTS[@]}"; do
    echo "${ADDR[$h]} $(cut -d' ' -f1,2 "$STATE/$h/ssh_host_ed25519_key.pub")" >>"$STATE/known_hosts"
  done
  cat "$STATE/client_ed25519.pub" >"$STATE/authorized_keys"
  {
    echo "# ssh client config for the snapvm test hosts (scripts/test-hosts.sh)."
    for h in "${HOSTS[@]}"; do
      printf 'Host %s %s\n  HostName %s\n' "$h" "${ADDR[$h]}" "${ADDR[$h]}"
    done
    cat <<EOF
Host *
  User root
  IdentityFile $STATE/client_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR
EOF
  } >"$STATE/ssh_config"
  mkdir -p "$STATE/bin"
  for tool in ssh scp sftp; do
    real=$(PATH=/usr/bin:/bin command -v "$tool") || die "$tool not found (package openssh-client)"
    printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$real" "$STATE/ssh_config" >"$STATE/bin/$tool"
    chmod 755 "$STATE/bin/$tool"
  done
}

start_sshd() {
  local h=$1 ns d="$STATE/$1" i
  ns=$(ns_of "$h")
  "$SSHD" -t -f "$d/sshd_config" || die "sshd rejected $d/sshd_config"
  # Detached from our stdout, so `eval "$(... up)"` does not wait for it; own session, so a ^C aimed at
  # the caller does not reach it.
  setsid ip netns exec "$ns" "$SSHD" -D -f "$d/sshd_config" -E "$d/sshd.log" </dev/null >"$d/sshd.out" 2>&1 &
  for i in $(seq 100); do
    if sshd_pid "$h" "$ns" >/dev/null &&
      ip netns exec "$ns" ss -Hltn 2>/dev/null | grep -qF " ${ADDR[$h]}:22 "; then
      return 0
    fi
    sleep 0.05
  done
  cat "$d/sshd.out" "$d/sshd.log" 2>/dev/null | sed 's/^/  sshd: /' >&2 || true
  die "sshd for host $h did not come up in 5 s (log: $d/sshd.log)"
}

# EXIT trap while `up` builds: a failed or interrupted `up` leaves nothing behind.
undo_failed_up() {
  local status=$?
  trap - EXIT
  if [ "$status" -ne 0 ]; then
    say "up failed: cleaning up"
    (cmd_down) || true
  fi
  exit "$status"
}

cmd_up() {
  need_root
  [ -x "$SSHD" ] || die "$SSHD not found: install openssh-server (scripts/setup-host.sh does)"
  command -v ssh-keygen >/dev/null || die "ssh-keygen not found: install openssh-client"
  if healthy; then
    say "hosts $(ns_of a) and $(ns_of b) already up"
    cat "$STATE/env"
    return 0
  fi
  if [ -d "$STATE" ] && [ ! -f "$STATE/$MARKER" ] && [ -n "$(ls -A "$STATE")" ]; then
    die "$STATE exists and is not a test-hosts state dir (no $MARKER): not using it"
  fi
  # Whatever was there is stale: start from nothing. A failed or interrupted `up` undoes itself.
  (cmd_down) || die "could not clear the previous state"
  trap undo_failed_up EXIT
  trap 'exit 130' INT TERM

  # 1. State dir, marked as ours before anything else goes in it.
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  : >"$STATE/$MARKER"
  echo "$PREFIX" >"$STATE/prefix"
  [ -d /run/sshd ] || install -d -m 0755 /run/sshd # sshd's privilege separation dir (Debian's path)

  # 2. Keys: one client key, one host key per host.
  ssh-keygen -q -t ed25519 -N '' -C snapvm-test-client -f "$STATE/client_ed25519"
  local h
  for h in "${HOSTS[@]}"; do
    mkdir -p "$STATE/$h/home"
    ssh-keygen -q -t ed25519 -N '' -C "snapvm-test-host-$h" -f "$STATE/$h/ssh_host_ed25519_key"
    write_sshd_config "$h"
  done
  write_client_files

  # 3. Namespaces and the veth pair, created with each end already in its namespace.
  for h in "${HOSTS[@]}"; do
    ip netns add "$(ns_of "$h")"
    ip -n "$(ns_of "$h")" link set lo up
  done
  ip link add "$DEV" netns "$(ns_of a)" type veth peer name "$DEV" netns "$(ns_of b)"
  for h in "${HOSTS[@]}"; do
    ip -n "$(ns_of "$h")" addr add "${ADDR[$h]}/$PREFIX_LEN" dev "$DEV"
    ip -n "$(ns_of "$h")" link set "$DEV" up
  done

  # 4. The sshds, then each host logs in to the other.
  for h in "${HOSTS[@]}"; do start_sshd "$h"; done
  for h in "${HOSTS[@]}"; do
    (in_host "$h" ssh -o ConnectTimeout=5 "$(other_of "$h")" true) </dev/null ||
      die "host $h cannot log in to host $(other_of "$h")"
  done

  {
    echo "A_DEST=ssh://root@${ADDR[a]}$STATE/a/home"
    echo "B_DEST=ssh://root@${ADDR[b]}$STATE/b/home"
    echo "A_HOME=$STATE/a/home"
    echo "B_HOME=$STATE/b/home"
    echo "SSH_CONFIG=$STATE/ssh_config"
  } >"$STATE/env"
  trap - EXIT INT TERM
  say "hosts $(ns_of a) (${ADDR[a]}) and $(ns_of b) (${ADDR[b]}) up; state in $STATE"
  cat "$STATE/env"
}

cmd_run() {
  need_root
  [ $# -ge 2 ] || die "usage: test-hosts.sh run a|b CMD [ARG...]"
  local h=$1
  shift
  case $h in a | b) ;; *) die "unknown host '$h' (a or b)" ;; esac
  if ! ns_exists "$(ns_of "$h")" || [ ! -f "$STATE/ssh_config" ]; then
    die "host $h is not up (namespace $(ns_of "$h"), state $STATE): run 'test-hosts.sh up' first"
  fi
  in_host "$h" "$@"
}

set_links() {
  need_root
  local h
  for h in "${HOSTS[@]}"; do
    ns_exists "$(ns_of "$h")" || die "namespace $(ns_of "$h") does not exist: run 'test-hosts.sh up' first"
  done
  for h in "${HOSTS[@]}"; do ip -n "$(ns_of "$h")" link set "$DEV" "$1"; done
}

cmd_heal() {
  set_links up
  local i h ok
  # Both ends up means carrier at once; wait for it so the next connect does not race it.
  for i in $(seq 40); do
    ok=1
    for h in "${HOSTS[@]}"; do
      ip -n "$(ns_of "$h")" -o link show "$DEV" | grep -q 'state UP' || ok=0
    done
    [ "$ok" -eq 0 ] || return 0
    sleep 0.05
  done
  die "links did not come back up in 2 s"
}

cmd_status() {
  need_root
  local h ns pid link
  echo "state dir: $STATE $([ -f "$STATE/$MARKER" ] && echo "(present)" || echo "(absent)")"
  for h in "${HOSTS[@]}"; do
    ns=$(ns_of "$h")
    if ! ns_exists "$ns"; then
      echo "host $h: namespace $ns absent"
      continue
    fi
    pid=$(sshd_pid "$h" "$ns") && pid="sshd pid $pid" || pid="no sshd"
    link=$(ip -n "$ns" -o link show "$DEV" 2>/dev/null | grep -o 'state [A-Z]*' || echo "no $DEV")
    echo "host $h: namespace $ns, ${ADDR[$h]} $link, $pid, home $STATE/$h/home"
  done
  if healthy; then echo "healthy: a and b reach each other over ssh"; else echo "not healthy"; return 1; fi
}

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
verb=$1
shift
case $verb in
  up) cmd_up ;;
  down) cmd_down ;;
  run) cmd_run "$@" ;;
  cut) set_links down ;;
  heal) cmd_heal ;;
  status) cmd_status ;;
  -h | --help | help) usage ;;
  *) say "unknown verb '$verb'"; usage ;;
esac
