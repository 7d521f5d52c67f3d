#!/usr/bin/env bash
# Stop what ceph-up.sh DIR started: each daemon by the PID in DIR/run/*.pid (plus any process
# whose command line names DIR/ceph.conf, found in /proc, also by PID), then remove DIR.
# Default SIGKILL (the data is wiped anyway); CEPH_KEEP_DATA=1 keeps DIR and shuts down cleanly
# (SIGTERM radosgw -> osd -> mon). Never pkill: other clusters may run on the same machine.
set -uo pipefail
CEPH_DIR=${1:?usage: ceph-down.sh DIR}
[[ -d $CEPH_DIR ]] && CEPH_DIR=$(cd "$CEPH_DIR" && pwd)
RUN=$CEPH_DIR/run
[[ -d $RUN ]] || { echo "[ceph-down] nothing to stop in $CEPH_DIR"; exit 0; }

order=(client.rgw.web client.rgw.gw osd.0 mgr.x mon.a)
for f in "$RUN"/*.pid; do            # plus anything else that left a pid file
  [[ -e $f ]] || continue
  n=$(basename "$f" .pid)
  [[ " ${order[*]} " == *" $n "* ]] || order+=("$n")
done

# Daemons of this cluster: from pid files, plus (fallback) any process whose command line names
# $CEPH_DIR/ceph.conf (e.g. started but pid file not yet written).  Always signalled by PID.
declare -A pids=()
for n in "${order[@]}"; do
  f=$RUN/$n.pid
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  # only if it is really a daemon of this cluster (pid reuse protection)
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$CEPH_DIR/ceph.conf"; then
    pids[$n]=$pid
  fi
done
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qE -- "^(/usr/bin/)?(ceph-mon|ceph-osd|ceph-mgr|radosgw) .*$CEPH_DIR/ceph.conf"; then
    known=0; for n in "${!pids[@]}"; do [[ ${pids[$n]} == "$pid" ]] && known=1; done
    (( known )) || pids[pid$pid]=$pid
  fi
done

t0=$(( $(date +%s%N) / 1000000 ))
# a killed daemon stays a zombie until PID 1 reaps it: count zombies as gone
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }
# stop_group <signal> <grace-seconds> <names...>: signal the group, wait, SIGKILL what is left
stop_group() {
  local sig=$1 grace=$2 n any; shift 2
  local group=()
  for n in "$@"; do [[ -n ${pids[$n]:-} ]] && group+=("$n"); done
  (( ${#group[@]} )) || return 0
  for n in "${group[@]}"; do kill "-$sig" "${pids[$n]}" 2>/dev/null; done
  for _ in $(seq 1 $(( grace * 10 ))); do
    any=0
    for n in "${group[@]}"; do alive "${pids[$n]}" && any=1; done
    (( any )) || break
    sleep 0.1
  done
  for n in "${group[@]}"; do
    if alive "${pids[$n]}"; then
      echo "[ceph-down] $n (pid ${pids[$n]}) still running ${grace}s after SIG$sig, sending SIGKILL"
      kill -KILL "${pids[$n]}" 2>/dev/null
    fi
    echo "[ceph-down] stopped $n (pid ${pids[$n]}) at +$(( $(date +%s%N) / 1000000 - t0 )) ms"
  done
}
# default: the data is wiped anyway -> SIGKILL (radosgw needs 2-8 s for a clean SIGTERM exit);
# with CEPH_KEEP_DATA=1 (or CEPH_KILL=0) -> clean SIGTERM shutdown in dependency order
if [[ ${CEPH_KEEP_DATA:-0} == 1 ]]; then CEPH_KILL=${CEPH_KILL:-0}; else CEPH_KILL=${CEPH_KILL:-1}; fi
if [[ $CEPH_KILL == 1 ]]; then
  stop_group KILL 5 "${!pids[@]}"
else
  # clean order: gateways (need the OSD to shut down cleanly), then osd/mgr, then the mon
  gws=(); rest=()
  for n in "${!pids[@]}"; do
    case $n in client.rgw.*) gws+=("$n") ;; mon.a) ;; *) rest+=("$n") ;; esac
  done
  stop_group TERM 10 "${gws[@]}"
  stop_group TERM 10 "${rest[@]}"
  stop_group TERM 10 mon.a
fi
rm -f "$RUN"/*.pid

# loop devices a previous (loop-based) variant may have attached to files in $CEPH_DIR
if command -v losetup >/dev/null; then
  losetup -nO NAME,BACK-FILE 2>/dev/null | awk -v d="$CEPH_DIR/" 'index($2,d)==1{print $1}' | while read -r dev; do
    losetup -d "$dev" && echo "[ceph-down] detached $dev"
  done
fi

if [[ ${CEPH_KEEP_DATA:-0} != 1 ]]; then
  rm -rf "$CEPH_DIR"
  echo "[ceph-down] removed $CEPH_DIR"
fi
