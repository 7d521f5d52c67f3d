#!/usr/bin/env bash
# Debian packages the test suite needs, installed only when missing (root + apt-get).
#   scripts/system-deps.sh          everything the tests need
# PostgreSQL is installed by postgres-up.sh, libvirtd/QEMU by libvirt-up.sh, when they run.
set -euo pipefail
PKGS=(
  libvirt-dev pkg-config          # build libvirt-python (dev extra)
  libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core   # WeasyPrint invoices
  chromium                         # browser tests (Playwright drives Debian's chromium)
  gettext                          # compilemessages for translators
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing Debian packages: ${missing[*]} (install them as root)" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
