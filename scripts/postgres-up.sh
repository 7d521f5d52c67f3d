#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks.
#
#   scripts/postgres-up.sh DIR     -> data dir DIR/pgdata, pid in DIR/postgres.pid,
#                                     DATABASE_URL written to DIR/database_url and printed
#   scripts/postgres-down.sh DIR   -> stops it by PID
#
# Port: $PGPORT or the first free one from 54330. Durability is off (fsync) -- tests only.
# Installs Debian's postgresql when no server binaries are present.
set -euo pipefail
DIR=${1:?usage: postgres-up.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PGBIN=$(find_bin || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "postgres-up: installing PostgreSQL from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  PGBIN=$(find_bin)
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${PGPORT:-}
if [ -z "$PORT" ]; then
  for p in $(seq 54330 54400); do if port_free "$p"; then PORT=$p; break; fi; done
fi

PGDATA="$DIR/pgdata"
rm -rf "$PGDATA"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home postgres
  install -d -o postgres -g postgres -m 700 "$PGDATA"
  chmod o+x "$DIR"
  as_pg=(runuser -u postgres --)
else
  install -d -m 700 "$PGDATA"
fi

if ! "${as_pg[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 \
  --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1; then
  echo "postgres-up: initdb failed:" >&2; cat "$DIR/initdb.log" >&2; exit 1
fi
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start -o \
  "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB" >/dev/null
head -1 "$PGDATA/postmaster.pid" >"$DIR/postgres.pid"

"$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE ROLE billow LOGIN PASSWORD 'billow' CREATEDB" \
  -c "CREATE DATABASE billow OWNER billow" >/dev/null
URL="postgresql://billow:billow@127.0.0.1:$PORT/billow"
echo "$URL" >"$DIR/database_url"
echo "$URL"
