#!/usr/bin/env bash
# Start a throw-away single-node Ceph 16 (1 mon, 1 memstore OSD) + radosgw (beast) for tests and
# development, everything on 127.0.0.1 and under one directory, no systemd (Debian 12).
#
#   scripts/ceph-up.sh DIR    -> daemons running (pids in DIR/run/*.pid); prints KEY=VALUE lines
#                                (RGW_ENDPOINT, RGW_ADMIN_ACCESS_KEY ...) also written to DIR/rgw.env
#   scripts/ceph-down.sh DIR  -> stops them by PID and removes DIR
#
# Needs root; installs ceph-mon ceph-osd radosgw ceph-common when missing (about 18 s once).
# Re-running on a healthy cluster prints the existing env at once. Settings (environment):
#   CEPH_OBJECTSTORE=memstore      memstore | bluestore (sparse file in DIR) | filestore
#   CEPH_OSD_BYTES=4G              memstore limit / bluestore block file size
#   CEPH_MON_PORT=16789 CEPH_MON_V2_PORT=13300 RGW_PORT=17480
#                                  keep ports below 32768: a port in the ephemeral range can be
#                                  taken by an outgoing connection and radosgw then fails to bind
#   RGW_WEBSITE_PORT=0             >0: a second, s3website-only gateway on that port (optional:
#                                  the main gateway serves websites for Host: <bucket>.<website dns>)
#   RGW_DNS_NAME=s3.localhost RGW_WEBSITE_DNS_NAME=s3-website.localhost
#   RGW_ADMIN_UID=rgwadmin RGW_ADMIN_ACCESS_KEY=... RGW_ADMIN_SECRET_KEY=...   (random if unset)
#   CEPH_WITH_MGR=0 CEPH_SKIP_INSTALL=0 CEPH_KEEP_ON_FAIL=0
# Test settings: quotas and the usage log take effect at once (rgw_bucket_quota_ttl=0 ...).
# Adapted from the feasibility study in the shared recipes (ceph-rgw.md).
set -euo pipefail

CEPH_DIR=${1:?usage: ceph-up.sh DIR}
mkdir -p "$CEPH_DIR"
CEPH_DIR=$(cd "$CEPH_DIR" && pwd)
CEPH_OBJECTSTORE=${CEPH_OBJECTSTORE:-memstore}
CEPH_OSD_BYTES=${CEPH_OSD_BYTES:-4G}
CEPH_WITH_MGR=${CEPH_WITH_MGR:-0}
CEPH_MON_PORT=${CEPH_MON_PORT:-16789}
CEPH_MON_V2_PORT=${CEPH_MON_V2_PORT:-13300}
RGW_PORT=${RGW_PORT:-17480}
RGW_WEBSITE_PORT=${RGW_WEBSITE_PORT:-0}
RGW_DNS_NAME=${RGW_DNS_NAME:-s3.localhost}
RGW_WEBSITE_DNS_NAME=${RGW_WEBSITE_DNS_NAME:-s3-website.localhost}
RGW_ADMIN_UID=${RGW_ADMIN_UID:-rgwadmin}
CONF=$CEPH_DIR/ceph.conf
T0=$(date +%s.%N)

log() { printf '[ceph-up %6.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# wait_for <timeout-seconds> <description> <daemon-name|-> <command...>
# fails fast (with the daemon's log tail) as soon as the daemon process is gone
wait_for() {
  local timeout=$1 desc=$2 daemon=$3; shift 3
  local end=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [[ $daemon != - ]] && ! pid_alive "$CEPH_DIR/run/$daemon.pid"; then
      tail -n 20 "$CEPH_DIR/log/$daemon.log" "$CEPH_DIR/log/$daemon.stdout" >&2 || true
      die "$daemon died while waiting for: $desc (log: $CEPH_DIR/log/$daemon.log)"
    fi
    if (( $(date +%s) >= end )); then
      [[ $daemon != - ]] && { tail -n 20 "$CEPH_DIR/log/$daemon.log" >&2 || true; }
      die "timeout (${timeout}s) waiting for: $desc"
    fi
    sleep 0.2
  done
  log "ready: $desc"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[[ $(id -u) == 0 ]] || die "must run as root (apt, daemons)"

# on any failure after the daemons were started: stop them (logs stay in $CEPH_DIR/log)
# unless CEPH_KEEP_ON_FAIL=1 (leave them running for debugging)
STARTED=0
on_exit() {
  local rc=$?
  if (( rc != 0 && STARTED )) && [[ ${CEPH_KEEP_ON_FAIL:-0} != 1 ]]; then
    echo "[ceph-up] failed (rc=$rc): stopping daemons, logs kept in $CEPH_DIR/log" >&2
    CEPH_KEEP_DATA=1 CEPH_KILL=1 bash "$(dirname "$0")/ceph-down.sh" "$CEPH_DIR" >&2 || true
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------- 1. install
PKGS=(ceph-mon ceph-osd radosgw ceph-common curl)
[[ $CEPH_WITH_MGR == 1 ]] && PKGS+=(ceph-mgr)
if [[ ${CEPH_SKIP_INSTALL:-0} != 1 ]]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    echo "[ceph-up] installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update only when needed: packages unknown, or install failed (stale lists -> 404)
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then apt-get update -qq; fi
    apt_install() { apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null; }
    apt_install || { apt-get update -qq && apt_install; } || die "apt-get install ${missing[*]} failed"
  fi
fi
command -v radosgw >/dev/null || die "radosgw not installed"

ceph_() { timeout 60 ceph -c "$CONF" --connect-timeout 15 "$@"; }

# alive <pid>: running and not a zombie
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }
pid_alive() { [[ -f $1 ]] && alive "$(cat "$1")"; }

# start_daemon <name> <command...>: run a ceph daemon in the foreground (-f, logs still go to
# $CEPH_DIR/log/<name>.log) as a background job of this script, so that its PID is known
# exactly ($!) and a daemon that exits during start-up is noticed at once.
start_daemon() {
  local name=$1; shift
  "$@" -f </dev/null >>"$CEPH_DIR/log/$name.stdout" 2>&1 &
  echo $! >"$CEPH_DIR/run/$name.pid"
}

print_env() {
  cat "$CEPH_DIR/rgw.env"
}

# ---------------------------------------------------------------- 2. already running?
if [[ -f $CEPH_DIR/rgw.env ]] && pid_alive "$CEPH_DIR/run/mon.a.pid" && pid_alive "$CEPH_DIR/run/osd.0.pid" \
   && pid_alive "$CEPH_DIR/run/client.rgw.gw.pid" \
   && curl -fsS -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then
  log "cluster already running in $CEPH_DIR"
  print_env
  exit 0
fi
if [[ -e $CEPH_DIR/ceph.conf ]]; then
  log "stale $CEPH_DIR found: stopping leftovers and wiping it"
  bash "$(dirname "$0")/ceph-down.sh" "$CEPH_DIR" >&2 || true
  rm -rf "$CEPH_DIR"
fi
for port in "$CEPH_MON_PORT" "$CEPH_MON_V2_PORT" "$RGW_PORT" $( [[ $RGW_WEBSITE_PORT != 0 ]] && echo "$RGW_WEBSITE_PORT" ); do
  port_busy "$port" && die "127.0.0.1:$port is already in use (set CEPH_MON_PORT/CEPH_MON_V2_PORT/RGW_PORT)"
done
mkdir -p "$CEPH_DIR"/{run,log,crash,tmp}
STARTED=1

FSID=$(cat /proc/sys/kernel/random/uuid)

# ---------------------------------------------------------------- 3. config
OSD_EXTRA=""
case $CEPH_OBJECTSTORE in
  memstore)
    OSD_EXTRA="memstore_device_bytes = $CEPH_OSD_BYTES" ;;
  bluestore)
    # block device = sparse file inside the OSD dir (bluestore_block_create=true);
    # small caches so the OSD stays small.  No loop device needed.
    OSD_EXTRA="bluestore_block_size = $(numfmt --from=iec "$CEPH_OSD_BYTES")
bluestore_block_create = true
bluestore_block_db_create = false
bluestore_block_wal_create = false
bluestore_fsck_on_mkfs = false
bluestore_cache_autotune = false
bluestore_cache_size = 64M
osd_memory_target = 939524096
bdev_enable_discard = false"
    if [[ ${CEPH_BLUESTORE_LOOP:-0} == 1 ]]; then
      # variant: real block device = loop device over a sparse file (needs /dev/loop*, root)
      truncate -s "$CEPH_OSD_BYTES" "$CEPH_DIR/osd.0.img"
      LOOPDEV=$(losetup -f --show "$CEPH_DIR/osd.0.img") || die "losetup failed"
      log "bluestore on loop device $LOOPDEV"
      OSD_EXTRA="$OSD_EXTRA
bluestore_block_path = $LOOPDEV"
    fi ;;
  filestore)
    OSD_EXTRA="osd_journal = $CEPH_DIR/\$name/journal
osd_journal_size = 100
osd_max_object_name_len = 256
osd_max_object_namespace_len = 64" ;;
  *) die "unknown CEPH_OBJECTSTORE=$CEPH_OBJECTSTORE" ;;
esac

cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$CEPH_MON_V2_PORT,v1:127.0.0.1:$CEPH_MON_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
# every entity keeps its data + keyring in \$CEPH_DIR/<name>
keyring = $CEPH_DIR/\$name/keyring
mon_data = $CEPH_DIR/\$name
osd_data = $CEPH_DIR/\$name
mgr_data = $CEPH_DIR/\$name
rgw_data = $CEPH_DIR/\$name
run_dir = $CEPH_DIR/run
admin_socket = $CEPH_DIR/run/\$name.asok
# pid files are written by ceph-up.sh itself (daemons run with -f)
log_file = $CEPH_DIR/log/\$name.log
mon_cluster_log_file = $CEPH_DIR/log/cluster.log
crash_dir = $CEPH_DIR/crash
log_to_stderr = false
err_to_stderr = false
# single node, single replica
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
auth_allow_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
paxos_propose_interval = ${CEPH_PAXOS_PROPOSE_INTERVAL:-0.1}

[osd]
osd_objectstore = $CEPH_OBJECTSTORE
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
$OSD_EXTRA

[client.rgw.gw]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_thread_pool_size = 64
rgw_enable_usage_log = true
rgw_usage_log_tick_interval = 1
rgw_usage_log_flush_threshold = 1
rgw_enable_static_website = true
rgw_dns_name = $RGW_DNS_NAME
rgw_dns_s3website_name = $RGW_WEBSITE_DNS_NAME
# make quotas / stats effective immediately (test cluster)
rgw_bucket_quota_ttl = 0
rgw_user_quota_bucket_sync_interval = 0
rgw_user_quota_sync_interval = 0

[client.rgw.web]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_WEBSITE_PORT
rgw_thread_pool_size = 16
rgw_enable_apis = s3website
rgw_enable_static_website = true
rgw_dns_name = $RGW_DNS_NAME
rgw_dns_s3website_name = $RGW_WEBSITE_DNS_NAME
EOF

# ---------------------------------------------------------------- 4. mon
log "creating mon.a"
mkdir -p "$CEPH_DIR/client.admin"
ceph-authtool --create-keyring "$CEPH_DIR/tmp/mon-seed.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$CEPH_DIR/client.admin/keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$CEPH_DIR/tmp/mon-seed.keyring" --import-keyring "$CEPH_DIR/client.admin/keyring" >/dev/null
monmaptool --create --fsid "$FSID" \
  --addv a "[v2:127.0.0.1:$CEPH_MON_V2_PORT,v1:127.0.0.1:$CEPH_MON_PORT]" "$CEPH_DIR/tmp/monmap" >/dev/null
ceph-mon -c "$CONF" -i a --mkfs --monmap "$CEPH_DIR/tmp/monmap" --keyring "$CEPH_DIR/tmp/mon-seed.keyring"
start_daemon mon.a ceph-mon -c "$CONF" -i a
wait_for 60 "mon quorum" mon.a ceph_ mon stat

# ---------------------------------------------------------------- 5. mgr (optional)
if [[ $CEPH_WITH_MGR == 1 ]]; then
  mkdir -p "$CEPH_DIR/mgr.x"
  ceph_ auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$CEPH_DIR/mgr.x/keyring"
  start_daemon mgr.x ceph-mgr -c "$CONF" -i x
fi

# ---------------------------------------------------------------- 6. osd
log "creating osd.0 ($CEPH_OBJECTSTORE)"
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_SECRET=$(ceph-authtool --gen-print-key)
echo "{\"cephx_secret\": \"$OSD_SECRET\"}" > "$CEPH_DIR/tmp/osd-new.json"
OSD_ID=$(ceph_ osd new "$OSD_UUID" -i "$CEPH_DIR/tmp/osd-new.json")
[[ $OSD_ID == 0 ]] || die "expected osd id 0, got '$OSD_ID'"
mkdir -p "$CEPH_DIR/osd.0"
ceph-authtool --create-keyring "$CEPH_DIR/osd.0/keyring" --name osd.0 --add-key "$OSD_SECRET" >/dev/null
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$CEPH_DIR/log/osd.0.mkfs.log" 2>&1 \
  || { cat "$CEPH_DIR/log/osd.0.mkfs.log" >&2; die "ceph-osd --mkfs failed"; }
start_daemon osd.0 ceph-osd -c "$CONF" -i 0
osd_up() { ceph_ osd dump --format json | grep -q '"up":1'; }
wait_for 120 "osd.0 up" osd.0 osd_up

# ---------------------------------------------------------------- 7. radosgw
log "starting radosgw client.rgw.gw on 127.0.0.1:$RGW_PORT"
mkdir -p "$CEPH_DIR/client.rgw.gw"
ceph_ auth get-or-create client.rgw.gw mon 'allow rw' osd 'allow rwx' mgr 'allow rw' -o "$CEPH_DIR/client.rgw.gw/keyring"
start_daemon client.rgw.gw radosgw -c "$CONF" -n client.rgw.gw
wait_for 180 "radosgw answers on 127.0.0.1:$RGW_PORT" client.rgw.gw curl -fsS -o /dev/null "http://127.0.0.1:$RGW_PORT/"

if [[ $RGW_WEBSITE_PORT != 0 ]]; then
  log "starting radosgw client.rgw.web (s3website only) on 127.0.0.1:$RGW_WEBSITE_PORT"
  mkdir -p "$CEPH_DIR/client.rgw.web"
  ceph_ auth get-or-create client.rgw.web mon 'allow rw' osd 'allow rwx' mgr 'allow rw' -o "$CEPH_DIR/client.rgw.web/keyring"
  start_daemon client.rgw.web radosgw -c "$CONF" -n client.rgw.web
  # any HTTP answer (even 404) means it is serving
  wait_for 120 "website radosgw answers on 127.0.0.1:$RGW_WEBSITE_PORT" client.rgw.web \
    curl -sS -o /dev/null "http://127.0.0.1:$RGW_WEBSITE_PORT/"
fi

# ---------------------------------------------------------------- 8. admin user for the Admin Ops API
randstr() { (set +o pipefail; tr -dc "$1" </dev/urandom 2>/dev/null | head -c "$2"); }
AK=${RGW_ADMIN_ACCESS_KEY:-$(randstr 'A-Z0-9' 20)}
SK=${RGW_ADMIN_SECRET_KEY:-$(randstr 'A-Za-z0-9' 40)}
radosgw-admin -c "$CONF" -n client.admin user create --uid="$RGW_ADMIN_UID" --display-name="RGW admin (tests)" \
  --access-key="$AK" --secret-key="$SK" >/dev/null
radosgw-admin -c "$CONF" -n client.admin caps add --uid="$RGW_ADMIN_UID" \
  --caps="users=*;buckets=*;usage=*;metadata=*;zone=*" >/dev/null

cat > "$CEPH_DIR/rgw.env" <<EOF
CEPH_CONF=$CONF
RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
RGW_WEBSITE_ENDPOINT=$( [[ $RGW_WEBSITE_PORT != 0 ]] && echo "http://127.0.0.1:$RGW_WEBSITE_PORT" || echo "http://127.0.0.1:$RGW_PORT" )
RGW_DNS_NAME=$RGW_DNS_NAME
RGW_WEBSITE_DNS_NAME=$RGW_WEBSITE_DNS_NAME
RGW_ADMIN_UID=$RGW_ADMIN_UID
RGW_ADMIN_ACCESS_KEY=$AK
RGW_ADMIN_SECRET_KEY=$SK
EOF
log "up (objectstore=$CEPH_OBJECTSTORE mgr=$CEPH_WITH_MGR)"
print_env
