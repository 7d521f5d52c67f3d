#!/usr/bin/env bash
# Start a throwaway Redis on 127.0.0.1 for tests and benchmarks.
#
#   scripts/redis-up.sh DIR     -> data in DIR, pid in DIR/redis.pid,
#                                  the base URL written to DIR/redis_url and printed
#                                  (redis://127.0.0.1:PORT; append /0, /1 ... for a database)
#   scripts/redis-down.sh DIR   -> stops it by PID
#
# Port: $REDIS_PORT or the first free one from 56380. No persistence (tests only).
# Installs Debian's redis-server when it is missing.
set -euo pipefail
DIR=${1:?usage: redis-up.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

if ! command -v redis-server >/dev/null; then
  echo "redis-up: installing redis-server from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${REDIS_PORT:-}
if [ -z "$PORT" ]; then
  for p in $(seq 56380 56450); do if port_free "$p"; then PORT=$p; break; fi; done
fi

redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --daemonize yes \
  --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save "" --appendonly no \
  --protected-mode yes >/dev/null
for _ in $(seq 1 100); do
  if [ -s "$DIR/redis.pid" ] && ! port_free "$PORT"; then break; fi
  sleep 0.05
done
if port_free "$PORT"; then
  echo "redis-up: redis-server did not start:" >&2; cat "$DIR/redis.log" >&2; exit 1
fi
URL="redis://127.0.0.1:$PORT"
echo "$URL" >"$DIR/redis_url"
echo "$URL"
