#!/usr/bin/env bash
# Stop what libvirt-up.sh DIR started: guests first (libvirtd leaves QEMU running when it exits),
# then the pool, then libvirtd and virtlogd by PID.
set -uo pipefail
DIR=${1:?usage: libvirt-down.sh DIR}
URI=qemu:///system
POOL=$(cat "$DIR/pool_name" 2>/dev/null || echo billow-test)
if virsh -c "$URI" version >/dev/null 2>&1; then
  for d in $(virsh -q -c "$URI" list --name); do virsh -q -c "$URI" destroy "$d" >/dev/null; done
  if virsh -q -c "$URI" pool-info "$POOL" >/dev/null 2>&1; then
    for v in $(virsh -q -c "$URI" vol-list "$POOL" | awk '{print $1}'); do
      virsh -q -c "$URI" vol-delete --pool "$POOL" "$v" >/dev/null
    done
    virsh -q -c "$URI" pool-destroy "$POOL" >/dev/null 2>&1
    virsh -q -c "$URI" pool-undefine "$POOL" >/dev/null 2>&1
  fi
fi
# A killed daemon may linger as a zombie when PID 1 does not reap: that counts as stopped.
running() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
stop() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if running "$pid"; then
    kill "$pid"
    for _ in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
}
stop "$DIR/libvirtd.pid"
# the fault tests restart libvirtd: the daemon's own pid file then names the new one
[ -f /run/libvirtd.pid ] && cp /run/libvirtd.pid "$DIR/libvirtd.pid" && stop "$DIR/libvirtd.pid"
stop "$DIR/virtlogd.pid"
rm -f "$DIR/pool_name" "$DIR/uri"
