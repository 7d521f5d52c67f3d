#!/usr/bin/env bash
# The whole test suite: linters, pytest on SQLite, pytest on a throwaway PostgreSQL.
#   scripts/test.sh          everything
#   scripts/test.sh lint     linters only
# Any failure exits non-zero; the PostgreSQL cluster is stopped by PID even when tests fail.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PATH="$PWD/$BIN:$PATH"
export DJANGO_SETTINGS_MODULE=config.settings
export BILLOW_FAST_HASHER=1
unset DATABASE_URL JOBS_URL

step() { printf '\n=== %s\n' "$*"; }

step "ruff"
ruff check .
ruff format --check .
step "mypy"
mypy billow config
step "import-linter"
lint-imports
step "migrations are up to date"
python manage.py makemigrations --check --dry-run
[ "${1:-}" = lint ] && exit 0

WORK=$(mktemp -d /tmp/billow-test.XXXXXX)
chmod 755 "$WORK"  # the postgres OS user must reach its data dir inside
export BILLOW_VAR_DIR="$WORK/var"
cleanup() {
  scripts/postgres-down.sh "$WORK/pg" || true
  [ -f "$WORK/libvirt/libvirtd.pid" ] && { scripts/libvirt-down.sh "$WORK/libvirt" || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# Real components: Chromium for tests/e2e, libvirtd + QEMU for tests marked libvirt (root only).
scripts/chromium-up.sh
if [ "$(id -u)" = 0 ]; then
  step "libvirtd"
  scripts/libvirt-up.sh "$WORK/libvirt"
  # the Debian cloud-init image real VPS tests boot (cached under /var/tmp: ~2 min once, then 0 s)
  step "VM image"
  BILLOW_VM_IMAGE=$(scripts/vm-image.sh | tail -n 1)
  export BILLOW_VM_IMAGE
else
  echo "not root: tests marked libvirt are skipped" >&2
fi

step "pytest on SQLite"
# shellcheck disable=SC2086
pytest ${PYTEST_ARGS:-}

step "pytest on PostgreSQL"
DATABASE_URL=$(scripts/postgres-up.sh "$WORK/pg")
export DATABASE_URL
# shellcheck disable=SC2086
pytest ${PYTEST_ARGS:-}
