#!/usr/bin/env bash
# Stop the Redis started by redis-up.sh DIR, by its PID.
set -uo pipefail
DIR=${1:?usage: redis-down.sh DIR}
PIDFILE="$DIR/redis.pid"
[ -f "$PIDFILE" ] || exit 0
PID=$(cat "$PIDFILE")
if kill -0 "$PID" 2>/dev/null; then
  kill -TERM "$PID"
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$PID" 2>/dev/null || true
fi
rm -f "$PIDFILE"
