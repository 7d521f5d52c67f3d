#!/bin/bash
# Build (or reuse) the Debian 12 cloud-init image the libvirt module's OS images start from:
# BIOS-bootable qcow2 with cloud-init (NoCloud) and qemu-guest-agent, built with mmdebstrap from
# the Debian mirror apt uses (no loop devices, no mounts, no libguestfs). From the shared recipe
# vm-images.md; see docs/vps.md.
#
#   sudo scripts/vm-image.sh                 # prints the path of the cached image on the last line
#   VM_IMAGE_FORCE=1 scripts/vm-image.sh     # rebuild (e.g. to pick up Debian updates)
#
# The cache lives under /var/tmp (survives reboots and CI reruns): a cached run takes ~0.02 s,
# a build from nothing ~2 minutes.
#
# Environment (all optional):
#   VM_IMAGE_DIR              cache directory                         (default /var/tmp/billow-vm-images)
#   VM_IMAGE_NAME             output name without .qcow2             (default debian-12-cloudinit)
#   VM_IMAGE_SUITE            Debian suite                            (default bookworm)
#   VM_IMAGE_MIRROR           Debian mirror                           (default: the one this host's apt uses)
#   VM_IMAGE_SECURITY_MIRROR  security mirror, "none" to leave it out (default: the host's, else none)
#   VM_IMAGE_SIZE             virtual disk size of the base image     (default 2G; overlays may be larger)
#   VM_IMAGE_KERNEL           kernel package                          (default linux-image-cloud-amd64)
#   VM_IMAGE_EXTRA_PACKAGES   extra packages, comma separated         (default none)
#   VM_IMAGE_COMPRESS         1 = zlib-compressed qcow2 (smaller, +~25 s), 0 = plain  (default 1)
#   VM_IMAGE_FORCE            1 = rebuild                             (default 0)
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

VM_IMAGE_DIR=${VM_IMAGE_DIR:-/var/tmp/billow-vm-images}
VM_IMAGE_NAME=${VM_IMAGE_NAME:-debian-12-cloudinit}
VM_IMAGE_SUITE=${VM_IMAGE_SUITE:-bookworm}
# The mirrors default to the ones this host's apt already uses (deb822 .sources or one-line .list).
host_apt_uri() {  # $1 = "main" or "security"
  local want=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$want" '/^URIs:/ {for (i = 2; i <= NF; i++) {sec = ($i ~ /security/); if ((want == "security") == sec) {print $i; exit}}}' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$want" '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {sec = ($i ~ /security/ || $0 ~ /-security/); if ((want == "security") == sec) print $i; break}}' "$f"
  done
}
VM_IMAGE_MIRROR=${VM_IMAGE_MIRROR:-$(host_apt_uri main | head -n 1)}
VM_IMAGE_SECURITY_MIRROR=${VM_IMAGE_SECURITY_MIRROR:-$(host_apt_uri security | head -n 1)}
VM_IMAGE_SECURITY_MIRROR=${VM_IMAGE_SECURITY_MIRROR:-none}
[ -n "$VM_IMAGE_MIRROR" ] || { echo "no Debian mirror found in this host's apt sources; set VM_IMAGE_MIRROR" >&2; exit 1; }
VM_IMAGE_SIZE=${VM_IMAGE_SIZE:-2G}
VM_IMAGE_KERNEL=${VM_IMAGE_KERNEL:-linux-image-cloud-amd64}
VM_IMAGE_EXTRA_PACKAGES=${VM_IMAGE_EXTRA_PACKAGES:-}
VM_IMAGE_COMPRESS=${VM_IMAGE_COMPRESS:-1}
VM_IMAGE_FORCE=${VM_IMAGE_FORCE:-0}
RECIPE_VERSION=7          # bump when the recipe below changes in a way that must invalidate caches

# Guest packages. minbase = Priority:required + apt. Recommends are not installed (mmdebstrap default).
GUEST_PACKAGES="systemd-sysv,udev,dbus,kmod,${VM_IMAGE_KERNEL},initramfs-tools,zstd"
GUEST_PACKAGES+=",cloud-init,cloud-guest-utils,fdisk,e2fsprogs"          # growpart needs sfdisk (fdisk)
GUEST_PACKAGES+=",qemu-guest-agent,openssh-server,sudo,procps"
GUEST_PACKAGES+=",ifupdown,isc-dhcp-client,resolvconf,iproute2,netbase"  # cloud-init renders ENI here
GUEST_PACKAGES+=",net-tools"     # ENI renders network-config 'routes:' as 'post-up route add ...' (net-tools)
[ -n "$VM_IMAGE_EXTRA_PACKAGES" ] && GUEST_PACKAGES+=",${VM_IMAGE_EXTRA_PACKAGES}"
HOST_PACKAGES="mmdebstrap grub-pc-bin fdisk e2fsprogs qemu-utils"

T0=$(date +%s.%N)
elapsed() { awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN { printf "%.1f", a - b }'; }
log() { printf '[%7ss] %s\n' "$(elapsed)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap --mode=root, ownership of the rootfs)"
[ "$(dpkg --print-architecture)" = amd64 ] || die "this recipe builds amd64 images on an amd64 host"

mkdir -p "$VM_IMAGE_DIR"
OUT="$VM_IMAGE_DIR/$VM_IMAGE_NAME.qcow2"
INFO="$OUT.info"

# The cache key covers everything that changes the content of the image (not the package versions:
# rebuild with VM_IMAGE_FORCE=1 to pick up Debian updates).
KEY=$(printf '%s\n' "$RECIPE_VERSION" "$VM_IMAGE_SUITE" "$VM_IMAGE_MIRROR" "$VM_IMAGE_SECURITY_MIRROR" \
      "$VM_IMAGE_SIZE" "$GUEST_PACKAGES" "$VM_IMAGE_COMPRESS" | sha256sum | cut -c1-16)

# One build at a time per cache directory.
exec 9>"$VM_IMAGE_DIR/.build.lock"
flock 9

if [ "$VM_IMAGE_FORCE" != 1 ] && [ -s "$OUT" ] && [ -s "$INFO" ] && grep -qx "cache_key=$KEY" "$INFO"; then
    log "cached image is up to date (cache_key=$KEY)"
    echo "$OUT"
    exit 0
fi

# ---------------------------------------------------------------- host tools
missing=""
for p in $HOST_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=" $p"
done
if [ -n "$missing" ]; then
    log "apt-get install$missing"
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null 2>&1 || {
        apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null
        apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 $missing >/dev/null
    }
fi
GRUB_DIR=/usr/lib/grub/i386-pc
[ -f "$GRUB_DIR/boot.img" ] || die "grub-pc-bin files missing in $GRUB_DIR"

WORK=$(mktemp -d "$VM_IMAGE_DIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/rootfs"
RAW="$WORK/disk.raw"

# ---------------------------------------------------------------- 1. root filesystem tree
# Pass the host's apt settings that matter for reaching the mirror (proxy, snapshot mirrors whose
# Release files have expired) into mmdebstrap's private apt configuration.
APTOPTS=()
while IFS= read -r line; do
    APTOPTS+=(--aptopt="$line")
done < <(apt-config dump | grep -E '^Acquire::(http::Proxy|https::Proxy|Check-Valid-Until|Check-Date) ' || true)

MIRRORS=("deb $VM_IMAGE_MIRROR $VM_IMAGE_SUITE main" "deb $VM_IMAGE_MIRROR $VM_IMAGE_SUITE-updates main")
[ "$VM_IMAGE_SECURITY_MIRROR" != none ] && MIRRORS+=("deb $VM_IMAGE_SECURITY_MIRROR $VM_IMAGE_SUITE-security main")

log "mmdebstrap $VM_IMAGE_SUITE (minbase + ${GUEST_PACKAGES//,/ })"
mmdebstrap --mode=root --variant=minbase --format=directory --quiet \
    "${APTOPTS[@]}" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --include="$GUEST_PACKAGES" \
    "$VM_IMAGE_SUITE" "$ROOT" "${MIRRORS[@]}" >"$WORK/mmdebstrap.log" 2>&1 \
    || { tail -40 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
log "rootfs ready: $(du -sh "$ROOT" | cut -f1)"

# ---------------------------------------------------------------- 2. make it a generic cloud image
FSUUID=$(cat /proc/sys/kernel/random/uuid)
KVER=$(ls "$ROOT/usr/lib/modules" | sort -V | tail -1)
[ -e "$ROOT/vmlinuz" ] && [ -e "$ROOT/initrd.img" ] || die "kernel symlinks /vmlinuz /initrd.img missing in rootfs"

echo debian > "$ROOT/etc/hostname"                       # mmdebstrap copied the build host's name
cat > "$ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# mmdebstrap copied the build host's resolv.conf; resolvconf normally replaces it with a symlink
[ -L "$ROOT/etc/resolv.conf" ] || : > "$ROOT/etc/resolv.conf"
printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$FSUUID" > "$ROOT/etc/fstab"
printf 'LANG=C.UTF-8\n' > "$ROOT/etc/default/locale"
# per-instance identity must be created on first boot, not shared by every VM
: > "$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id" "$ROOT"/etc/ssh/ssh_host_*       # cloud-init regenerates host keys
rm -rf "$ROOT/var/lib/cloud"/* "$ROOT"/var/log/*.log "$ROOT/var/cache/debconf"/*-old
# e2scrub_reap (LVM snapshot cleanup) costs ~40 s of CPU on a TCG boot and is useless without LVM
chroot "$ROOT" systemctl disable --quiet e2scrub_reap.service e2scrub_all.timer
cat > "$ROOT/etc/cloud/cloud.cfg.d/90_vm-image.cfg" <<'EOF'
# Only look for NoCloud (cidata ISO/vfat or SMBIOS/cmdline seed) and ConfigDrive; None = boot anyway.
datasource_list: [ NoCloud, ConfigDrive, None ]
# The image has no 'locales' package; C.UTF-8 needs no locale-gen (Debian's default en_US.UTF-8 would fail).
locale: C.UTF-8
EOF

# SSH host keys are made by cloud-init (ssh module, ordered before ssh.service). If cloud-init does
# not run (no seed visible: ds-identify's stock policy then disables it for that boot), sshd would
# fail on missing keys; 'ssh-keygen -A' creates only missing keys, so it is a no-op otherwise.
mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
cat > "$ROOT/etc/systemd/system/ssh.service.d/10-hostkeys.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF

# GRUB: modules + config inside the filesystem, core.img in the MBR gap (written below)
mkdir -p "$ROOT/boot/grub/i386-pc"
cp "$GRUB_DIR"/*.mod "$GRUB_DIR"/*.lst "$ROOT/boot/grub/i386-pc/"
cat > "$ROOT/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
search --no-floppy --fs-uuid --set=root $FSUUID
menuentry 'Debian GNU/Linux' {
    linux /vmlinuz root=UUID=$FSUUID ro console=tty0 console=ttyS0,115200n8
    initrd /initrd.img
}
EOF
# /vmlinuz and /initrd.img are symlinks that kernel upgrades inside the guest keep up to date,
# so this static grub.cfg survives 'apt upgrade' without update-grub.

# ---------------------------------------------------------------- 3. disk image, no loop device needed
log "disk: MBR + ext4 ($VM_IMAGE_SIZE) + GRUB"
truncate -s "$VM_IMAGE_SIZE" "$RAW"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$RAW"
DISK_BYTES=$(stat -c %s "$RAW")
FS_KIB=$(( (DISK_BYTES - 2048*512) / 1024 ))
# mke2fs writes the filesystem straight into partition 1 of the file and copies the tree (-d).
# Debian 12's mke2fs.conf does not enable orphan_file/metadata_csum_seed, so GRUB 2.06 can read it.
mkfs.ext4 -q -F -L rootfs -U "$FSUUID" -d "$ROOT" -E offset=$((2048*512)),nodiscard "$RAW" "${FS_KIB}k"
e2fsck -fn "$RAW?offset=$((2048*512))" >/dev/null 2>&1 || die "e2fsck found problems in the new filesystem"

cat > "$WORK/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $FSUUID
set prefix=(\$root)/boot/grub
EOF
grub-mkimage -O i386-pc -o "$WORK/core.img" -c "$WORK/early.cfg" -p /boot/grub \
    biosdisk part_msdos ext2 search search_fs_uuid
[ "$(stat -c %s "$WORK/core.img")" -lt $(( 2047*512 )) ] || die "core.img does not fit in the MBR gap"
# boot.img: only the first 440 bytes (keep disk signature + partition table). Its default
# kernel sector is 1, and grub-mkimage already wrote core.img's own sector count, so no grub-bios-setup.
dd if="$GRUB_DIR/boot.img" of="$RAW" bs=440 count=1 conv=notrunc status=none
dd if="$WORK/core.img" of="$RAW" bs=512 seek=1 conv=notrunc status=none

log "qemu-img convert -> qcow2 (compress=$VM_IMAGE_COMPRESS)"
CONVERT_OPTS=(-O qcow2 -o compat=1.1)
[ "$VM_IMAGE_COMPRESS" = 1 ] && CONVERT_OPTS+=(-c)
qemu-img convert "${CONVERT_OPTS[@]}" "$RAW" "$WORK/image.qcow2"

pkgver() { dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
BUILD_S=$(elapsed)
cat > "$WORK/image.info" <<EOF
cache_key=$KEY
built_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$(printf '%.0f' "$BUILD_S")
suite=$VM_IMAGE_SUITE
kernel=$KVER
cloud_init=$(pkgver cloud-init)
qemu_guest_agent=$(pkgver qemu-guest-agent)
root_fs_uuid=$FSUUID
virtual_size_bytes=$DISK_BYTES
file_size_bytes=$(stat -c %s "$WORK/image.qcow2")
rootfs_tree=$(du -sh "$ROOT" | cut -f1)
sha256=$(sha256sum "$WORK/image.qcow2" | cut -d' ' -f1)
packages=$GUEST_PACKAGES
EOF
mv -f "$WORK/image.qcow2" "$OUT"
mv -f "$WORK/image.info" "$INFO"
log "done: $OUT ($(du -h --apparent-size "$OUT" | cut -f1), virtual $VM_IMAGE_SIZE, kernel $KVER)"
echo "$OUT"
