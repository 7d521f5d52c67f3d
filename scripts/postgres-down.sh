#!/usr/bin/env bash
# Stop the cluster started by postgres-up.sh DIR, by its PID.
set -uo pipefail
DIR=${1:?usage: postgres-down.sh DIR}
PIDFILE="$DIR/postgres.pid"
[ -f "$PIDFILE" ] || exit 0
PID=$(cat "$PIDFILE")
if kill -0 "$PID" 2>/dev/null; then
  kill -INT "$PID"   # fast shutdown
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PID" 2>/dev/null || true
fi
rm -f "$PIDFILE"
