#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/e2e) if it is missing.
# Never runs `playwright install`: the tests drive /usr/bin/chromium, no downloaded browser.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null | tail -1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps it to ~24 packages (with recommends: 112).
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null | tail -1)"
