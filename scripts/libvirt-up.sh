#!/usr/bin/env bash
# Start a real libvirtd + QEMU (KVM when /dev/kvm is usable, TCG otherwise) for tests and dev.
#
#   scripts/libvirt-up.sh DIR     -> virtlogd + libvirtd running (pids in DIR/*.pid), storage
#                                    pool "billow-test" (dir type) at DIR/pool; prints the URI
#   scripts/libvirt-down.sh DIR   -> destroys guests, removes the pool, stops both by PID
#
# Needs root (qemu:///system) and Debian 12; installs the packages when missing. Without
# systemd: the daemons are started by hand, guests run as root (no /dev/kvm or image chown games).
set -euo pipefail
DIR=${1:?usage: libvirt-up.sh DIR}
mkdir -p "$DIR/pool"
DIR=$(cd "$DIR" && pwd)
URI=qemu:///system
POOL=${BILLOW_LIBVIRT_POOL:-billow-test}

PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
      libvirt-dev pkg-config)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "libvirt-up: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
fi

# libvirtd resolves its compiled-in user before it reads qemu.conf: the user must exist.
id libvirt-qemu >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
  --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/lib/libvirt/images \
  /var/cache/libvirt /run/libvirt /etc/libvirt
grep -qs '^user *=' /etc/libvirt/qemu.conf || printf 'user = "root"\ngroup = "root"\n' \
  >>/etc/libvirt/qemu.conf

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null &&
  [ "$(ps -o stat= -p "$(cat "$1")" | cut -c1)" != Z ]; }
# virtlogd carries QEMU's stdout/stderr; libvirtd does not spawn it by itself.
if ! alive /run/virtlogd.pid; then
  rm -f /run/libvirt/virtlogd-sock
  virtlogd -d
fi
if ! virsh -c "$URI" version >/dev/null 2>&1; then
  # a daemon that is still exiting holds the pid file for a moment: try again
  for _ in $(seq 1 50); do libvirtd -d 2>/dev/null && break; sleep 0.2; done
fi
for _ in $(seq 1 600); do
  virsh -c "$URI" version >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -c "$URI" version >/dev/null  # fail when still not up
cp /run/libvirtd.pid "$DIR/libvirtd.pid"
cp /run/virtlogd.pid "$DIR/virtlogd.pid"

if ! virsh -q -c "$URI" pool-info "$POOL" >/dev/null 2>&1; then
  virsh -q -c "$URI" pool-define-as "$POOL" dir --target "$DIR/pool" >/dev/null
fi
pool_running() { virsh -q -c "$URI" pool-info "$POOL" | grep 'State: *running' >/dev/null; }
pool_running || virsh -q -c "$URI" pool-start "$POOL" >/dev/null 2>&1 || pool_running
echo "$POOL" >"$DIR/pool_name"
echo "$URI" >"$DIR/uri"
echo "$URI"
