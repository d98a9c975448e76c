#!/usr/bin/env bash
# s3-server.sh start|stop|status|env — the tests' real S3 server: a throw-away one-node Ceph cluster
# (1 mon, 1 memstore OSD, no mgr) plus radosgw on 127.0.0.1, with an S3 user whose keys are generated here.
# radosgw checks SigV4 like AWS does, which a mock (s3rver) does not. Packages: scripts/setup-host.sh.
#
#   set -a; eval "$(scripts/s3-server.sh start)"; set +a     # AWS_ENDPOINT_URL= AWS_ACCESS_KEY_ID= ...
#   ...                                                      # tests
#   scripts/s3-server.sh stop
#
# start  MUST be idempotent: a healthy server in the state dir is reused (its assignments re-printed); a
#        broken one is stopped and replaced. Returns once a SigV4-signed request succeeds. stdout carries only
#        the shell assignments; progress and errors go to stderr.
# stop   kills the PIDs recorded in the state dir, then anything else still using the dir, removes the dir;
#        exits 0 when nothing runs.
# status exit 0 and a summary when the server answers, 3 when it does not run.
# env    re-prints the assignments (exit 3 when it does not run).
#
# Knobs: SNAPVM_S3_DIR (state dir, default /tmp/snapvm-s3; one server per dir), SNAPVM_S3_PORT (default: a
#        free port), SNAPVM_S3_REGION (default us-east-1; radosgw accepts any region in the signature),
#        SNAPVM_S3_MEM_MIB (memstore capacity, default 2048), SNAPVM_S3_START_TIMEOUT (s, default 60).
#
# Capacity: memstore keeps every object in the OSD's RAM, allocated as written (OSD RSS ~0.8 GB after a
# 400 MiB upload). Once the OSD is full (95% of SNAPVM_S3_MEM_MIB, noticed a little late: with a 256 MiB cap
# a 300 MiB upload still went through, a 700 MiB one hung) writes HANG rather than fail, with `ceph health`
# saying OSD_FULL. So at the default 2 GiB cap a suite keeps its live data below ~1.5 GiB; overwritten and
# deleted data is reclaimed by radosgw's gc within ~10-30 s, not at once. A few hundred MiB per test is fine.
#
# Facts this relies on (measured on this machine kind, Ceph 16.2.15): systemd is not PID 1, so daemons run
# by hand (in the foreground of their own session, so their PID is the one recorded); msgr v2 only on
# loopback; `paxos propose interval = 0.1` and pre-created bucket pools cut start from ~13 s to ~3 s; no mgr
# is needed for pools when the PG autoscaler is off.
set -euo pipefail

DIR=${SNAPVM_S3_DIR:-/tmp/snapvm-s3}
DIR=${DIR%/}
REGION=${SNAPVM_S3_REGION:-us-east-1}
MEM_MIB=${SNAPVM_S3_MEM_MIB:-2048}
TIMEOUT=${SNAPVM_S3_START_TIMEOUT:-60}
MARK=$DIR/.snapvm-s3          # marks a dir this script made: stop removes nothing else
CONF=$DIR/ceph.conf
PIDS=$DIR/pids                # "name pid" per daemon this script started
RGW=client.rgw.snapvm
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
T0=${EPOCHREALTIME/[.,]/}

log() {
  local n=${EPOCHREALTIME/[.,]/}
  printf 's3-server [%d.%02ds] %s\n' $(( (n - T0) / 1000000 )) $(( (n - T0) / 10000 % 100 )) "$*" >&2
}
die() { log "error: $*"; exit 1; }

[[ $DIR == /* && $DIR != / ]] || die "SNAPVM_S3_DIR must be an absolute path other than / (got '$DIR')"

# --- shared by every command ------------------------------------------------------------------------------
# A recorded PID counts as ours only while its command line names this dir's ceph.conf, so a stale pid
# file can never make stop signal an unrelated process.
cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }
ours() { local cmd; cmd=$(cmdline "$1") && [[ $cmd == *"$CONF"* ]]; }
recorded() { [[ -f $PIDS ]] && awk '{ print $2 }' "$PIDS"; }
env_value() { sed -n "s/^$1=//p" "$DIR/env" 2>/dev/null; }

# One SigV4-signed ListBuckets with the generated user's keys (curl >= 7.75 signs; S3 also wants the
# payload hash header signed, here the hash of the empty body).
sigv4_ok() {
  local endpoint=$1 key=$2 secret=$3 body
  body=$(curl -fsS --max-time 5 --aws-sigv4 "aws:amz:$REGION:s3" --user "$key:$secret" \
    -H "x-amz-content-sha256: $EMPTY_SHA256" "$endpoint/" 2>/dev/null) &&
    [[ $body == *'<ListAllMyBucketsResult'* ]]
}

healthy() {
  [[ -f $MARK && -f $DIR/env ]] || return 1
  local pid n=0
  for pid in $(recorded); do ours "$pid" || return 1; n=$(( n + 1 )); done
  (( n == 3 )) || return 1
  sigv4_ok "$(env_value AWS_ENDPOINT_URL)" "$(env_value AWS_ACCESS_KEY_ID)" "$(env_value AWS_SECRET_ACCESS_KEY)"
}

# PIDs of live processes, other than this script and its ancestors, whose command line names the dir or
# that hold a file under it open. (The pattern reaches grep through a file, so grep does not list itself.)
users_of_dir() {
  local skip=" $$ " p=$$ pid
  while [[ $p -gt 1 ]]; do p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 1); skip+="$p "; done
  {
    grep -lsF -f <(printf '%s/\n' "$DIR") /proc/[0-9]*/cmdline || true
    find /proc/[0-9]*/fd -maxdepth 1 -lname "$DIR/*" 2>/dev/null || true
  } | sed -nE 's#^/proc/([0-9]+)/.*#\1#p' | sort -un | while read -r pid; do
    [[ $skip == *" $pid "* ]] || ! kill -0 "$pid" 2>/dev/null || echo "$pid"
  done
}

# kill_all GRACE-SECONDS PID...: SIGTERM, wait, then SIGKILL what is left. The data is thrown away, so all
# daemons are signalled at once rather than in dependency order, and the OSD, which takes ~5 s to shut
# down cleanly, is killed after the grace.
kill_all() {
  local grace=$1 pid left; shift
  (( $# )) || return 0
  kill -TERM "$@" 2>/dev/null || true
  for (( i = 0; i < grace * 10; i++ )); do
    left=(); for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
    (( ${#left[@]} )) || return 0
    sleep 0.1
  done
  log "SIGKILL after ${grace}s: ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
  for (( i = 0; i < 50; i++ )); do
    left=(); for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
    (( ${#left[@]} )) || return 0
    sleep 0.1
  done
  log "did not die: ${left[*]}"; return 1
}

do_stop() {
  if [[ ! -e $DIR ]]; then log "not running ($DIR does not exist)"; return 0; fi
  [[ -f $MARK ]] || die "$DIR was not made by s3-server.sh (no $MARK); not touching it"
  local pid mine=() rest
  for pid in $(recorded); do ours "$pid" && mine+=("$pid"); done
  kill_all 2 "${mine[@]}" || return 1
  mapfile -t rest < <(users_of_dir)
  if (( ${#rest[@]} )); then log "also stopping processes using $DIR: ${rest[*]}"; kill_all 2 "${rest[@]}" || return 1; fi
  rm -rf -- "$DIR"
  log "stopped${mine[*]:+ (${mine[*]})}; removed $DIR"
}

# --- start ------------------------------------------------------------------------------------------------
# Two free loopback ports below the ephemeral range (so an outgoing connection cannot hold one), or the
# requested rgw port checked free.
pick_ports() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const net = require("node:net");
    const tryPort = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(false));
      s.listen(p, "127.0.0.1", () => s.close(() => ok(true))); });
    (async () => {
      const want = Number(process.argv[1]), got = [];
      if (want && !(await tryPort(want))) { console.error(`port ${want} is in use`); process.exit(1); }
      if (want) got.push(want);
      for (let i = 0; got.length < 2 && i < 200; i++) {
        const p = 20000 + Math.floor(Math.random() * 12000);
        if (!got.includes(p) && await tryPort(p)) got.push(p);
      }
      if (got.length < 2) { console.error("no free port"); process.exit(1); }
      console.log(got.join(" "));
    })();' "${SNAPVM_S3_PORT:-0}"
}

# spawn NAME CMD...: run a daemon in the foreground of its own session, record its PID.
spawn() {
  local name=$1; shift
  setsid "$@" -f </dev/null >>"$DIR/log/$name.out" 2>&1 &
  local pid=$!
  echo "$name $pid" >>"$PIDS"
  sleep 0.05
  kill -0 "$pid" 2>/dev/null || die "$name exited at once: $(tail -n 5 "$DIR/log/$name.out" "$DIR/log/$name.log" 2>/dev/null)"
}

# wait_for DESC CMD...: poll until CMD succeeds or the start timeout passes.
wait_for() {
  local desc=$1; shift
  local end=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < end )) || die "timed out after ${TIMEOUT}s waiting for $desc"
    sleep 0.2
  done
  log "$desc"
}

write_conf() {
  local fsid=$1 mon_port=$2 rgw_port=$3
  # $name and $id are Ceph's own metavariables, expanded per daemon.
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $DIR/\$name.keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
log to stderr = false
err to stderr = false
mon cluster log to file = false
# one OSD: one replica, few PGs, no autoscaler (it would need a mgr)
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail warn = 2
mon data avail crit = 1
# each pool creation is a paxos round: 1 s each by default
paxos propose interval = 0.1

[mon]
mon data = $DIR/mon.\$id
keyring = $DIR/mon.\$id/keyring

[osd]
osd data = $DIR/osd.\$id
keyring = $DIR/osd.\$id/keyring
osd objectstore = memstore
memstore device bytes = $(( MEM_MIB * 1024 * 1024 ))

[$RGW]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = 127.0.0.1
rgw thread pool size = 32
# deleted and overwritten data lives in RAM: reclaim it within seconds, not the default 2 h
rgw gc obj min wait = 10
rgw gc processor period = 10
rgw gc processor max time = 10
EOF
}

do_start() {
  local b
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl node setsid; do
    command -v "$b" >/dev/null || die "missing $b: run scripts/setup-host.sh"
  done
  { [[ $MEM_MIB =~ ^[0-9]+$ ]] && (( MEM_MIB >= 256 )); } || die "SNAPVM_S3_MEM_MIB must be a number >= 256"

  if healthy; then
    local running; running=$(env_value AWS_ENDPOINT_URL)
    [[ -z ${SNAPVM_S3_PORT:-} || $running == "http://127.0.0.1:$SNAPVM_S3_PORT" ]] ||
      die "already running in $DIR at $running, not on port $SNAPVM_S3_PORT; stop it first"
    log "already running in $DIR"; cat "$DIR/env"; return 0
  fi
  if [[ -e $DIR ]]; then
    [[ -f $MARK ]] || die "$DIR exists and was not made by s3-server.sh; set SNAPVM_S3_DIR to another path"
    log "replacing a stopped or broken server in $DIR"
    do_stop
  fi

  local ports mon_port rgw_port
  ports=$(pick_ports) || die "could not pick ports"
  read -r rgw_port mon_port <<<"$ports"

  mkdir -p "$DIR"/{run,log,crash,mon.a,osd.0}
  : >"$MARK"
  : >"$PIDS"
  # From here on a failed start leaves nothing running.
  trap 'rc=$?; if (( rc )); then log "start failed; log tails:"; tail -n 8 "$DIR"/log/*.log >&2 2>/dev/null || true; do_stop || true; fi' EXIT

  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid" "$mon_port" "$rgw_port"
  local c=(-c "$CONF")
  cephq() { timeout 30 ceph "${c[@]}" --connect-timeout 20 "$@"; }
  log "state $DIR, rgw port $rgw_port, mon port $mon_port, memstore ${MEM_MIB} MiB"

  # mon: keys, a one-mon map, its store
  ceph-authtool --create-keyring "$DIR/mon.init.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$DIR/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$DIR/mon.init.keyring" --import-keyring "$DIR/client.admin.keyring" >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null
  ceph-mon "${c[@]}" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/mon.init.keyring" 2>>"$DIR/log/mkfs.err"
  spawn mon.a ceph-mon "${c[@]}" -i a
  wait_for "mon in quorum" cephq mon stat

  # osd: registered with the mon, its key, an empty memstore
  local osd_uuid osd_key osd_id
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_key=$(ceph-authtool --gen-print-key)
  osd_id=$(printf '{"cephx_secret": "%s"}' "$osd_key" | cephq osd new "$osd_uuid" -i -)
  [[ $osd_id == 0 ]] || die "expected osd id 0, got '$osd_id'"
  ceph-authtool --create-keyring "$DIR/osd.0/keyring" --name osd.0 --add-key "$osd_key" >/dev/null
  ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$DIR/log/mkfs.err" || die "osd mkfs: $(tail -n 5 "$DIR/log/mkfs.err")"
  spawn osd.0 ceph-osd "${c[@]}" -i 0
  osd_up() { local dump; dump=$(cephq osd dump) && [[ $dump =~ (^|$'\n')osd\.0\ up\ +in ]]; }
  wait_for "osd.0 up and in" osd_up

  # The pools radosgw would create on the first bucket, object and multipart upload, made now in one
  # `ceph` session (one Python start-up instead of six) so the first S3 requests are not slowed down.
  local pool pools="default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec"
  for pool in $pools; do echo "osd pool create $pool 8 8"; echo "osd pool application enable $pool rgw"; done \
    | cephq >"$DIR/log/pools.out" 2>&1 || true
  for pool in $pools; do grep -q "pool '$pool' created" "$DIR/log/pools.out" || die "pool $pool: $(cat "$DIR/log/pools.out")"; done
  log "bucket pools created"

  # radosgw and the S3 user
  cephq auth get-or-create "$RGW" mon 'allow rw' osd 'allow rwx' -o "$DIR/$RGW.keyring" >/dev/null
  spawn rgw radosgw "${c[@]}" -n "$RGW"
  local key secret endpoint=http://127.0.0.1:$rgw_port
  key=$(od -An -N10 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)    # 20 characters, like AWS's
  secret=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')                # 40 characters
  timeout 60 radosgw-admin "${c[@]}" -n client.admin user create --uid=snapvm-test --display-name="snapvm tests" \
    --access-key="$key" --secret-key="$secret" >"$DIR/user.json" 2>>"$DIR/log/radosgw-admin.err" \
    || die "radosgw-admin user create: $(tail -n 5 "$DIR/log/radosgw-admin.err")"
  grep -qF "\"access_key\": \"$key\"" "$DIR/user.json" || die "user create did not record our key"
  wait_for "radosgw answers SigV4 at $endpoint" sigv4_ok "$endpoint" "$key" "$secret"

  cat >"$DIR/env.tmp" <<EOF
AWS_ENDPOINT_URL=$endpoint
AWS_ACCESS_KEY_ID=$key
AWS_SECRET_ACCESS_KEY=$secret
AWS_REGION=$REGION
EOF
  mv "$DIR/env.tmp" "$DIR/env"
  trap - EXIT
  log "ready ($(tr '\n' ' ' <"$PIDS"| sed 's/ $//'))"
  cat "$DIR/env"
}

do_status() {
  if healthy; then
    echo "running in $DIR at $(env_value AWS_ENDPOINT_URL): $(tr '\n' ' ' <"$PIDS" | sed 's/ $//')"
  else
    echo "not running (state dir $DIR)"; return 3
  fi
}

case ${1:-} in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  env) if healthy; then cat "$DIR/env"; else log "not running in $DIR"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
