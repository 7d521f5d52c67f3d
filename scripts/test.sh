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
unset DATABASE_URL JOBS_URL CACHE_URL

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
  scripts/redis-down.sh "$WORK/redis" || true
  [ -f "$WORK/libvirt/libvirtd.pid" ] && { scripts/libvirt-down.sh "$WORK/libvirt" || true; }
  [ -d "$WORK/ceph" ] && { scripts/ceph-down.sh "$WORK/ceph" >/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# Real components: Chromium for tests/e2e, libvirtd + QEMU for tests marked libvirt, one Ceph
# cluster + RGW shared by both passes for tests marked ceph (root only; tests/ceph.py).
scripts/chromium-up.sh
if [ "$(id -u)" = 0 ]; then
  step "libvirtd"
  scripts/libvirt-up.sh "$WORK/libvirt"
  step "ceph + radosgw"
  scripts/ceph-up.sh "$WORK/ceph" >/dev/null
  export BILLOW_CEPH_DIR="$WORK/ceph"
  # the Debian cloud-init image real VPS tests boot (cached under /var/tmp: ~2 min once, then 0 s)
  step "VM image"
  BILLOW_VM_IMAGE=$(scripts/vm-image.sh | tail -n 1)
  export BILLOW_VM_IMAGE
else
  echo "not root: tests marked libvirt and ceph are skipped" >&2
fi

# Each database pass runs in two parts: the tests that need no outside process on two xdist
# workers, then the ones driving Chromium or libvirtd serially (they share one browser / one
# libvirtd and name their objects per run). PYTEST_ARGS replaces both parts with one run.
run_pytest() {
  if [ -n "${PYTEST_ARGS:-}" ]; then
    # shellcheck disable=SC2086
    pytest $PYTEST_ARGS
    return
  fi
  pytest -n 2 -m "not e2e and not libvirt"
  pytest -m "e2e or libvirt"
}

step "pytest on SQLite"
run_pytest

step "pytest on PostgreSQL"
DATABASE_URL=$(scripts/postgres-up.sh "$WORK/pg")
export DATABASE_URL
run_pytest

# The multi-node pass: jobs, cache and throttle on a real Redis, on the same PostgreSQL. The
# suites of the job queue, module operations and the billing run again, plus the tests marked
# redis (two consumer processes sharing a billing run, one killed mid-chunk; the throttle and
# the catalog token in Redis), which the passes above skip.
step "pytest on PostgreSQL with Redis (jobs, cache, throttle)"
REDIS_URL=$(scripts/redis-up.sh "$WORK/redis")
# shellcheck disable=SC2086
JOBS_URL="$REDIS_URL/0" CACHE_URL="$REDIS_URL/1" pytest ${PYTEST_ARGS:-} \
  tests/jobs tests/services/test_operations.py tests/billing/test_run_start.py \
  tests/scenarios/test_crash_rerun.py tests/api/test_throttle_redis.py \
  tests/api/test_tokens_and_errors.py tests/catalog/test_cache.py tests/catalog/test_cache_redis.py \
  tests/ops
