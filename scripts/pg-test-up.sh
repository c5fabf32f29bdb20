#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the store tests (trust auth, 127.0.0.1 only) and prints its URL
# on stdout, so `export SLIPWAY_TEST_PG_URL="$(scripts/pg-test-up.sh)"` works. Running it again
# while the server is up only prints the URL. Stop and remove it with scripts/pg-test-down.sh.
#
#   SLIPWAY_PG_PORT  port to listen on (default 55432)
#   SLIPWAY_PG_DIR   data directory (default $TMPDIR/slipway-pg-test-<port>)
#   PG_BIN           PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PORT="${SLIPWAY_PG_PORT:-55432}"
DIR="${SLIPWAY_PG_DIR:-${TMPDIR:-/tmp}/slipway-pg-test-$PORT}"
DB=slipway_test

# PostgreSQL refuses to run as root, so root runs it as the postgres account.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ ! -f "$DIR/PG_VERSION" ]; then
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  as_owner "$PG_BIN/initdb" -D "$DIR" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$DIR.initdb.log" 2>&1 ||
    { cat "$DIR.initdb.log" >&2; exit 1; }
  rm -f "$DIR.initdb.log"
fi

if ! as_owner "$PG_BIN/pg_ctl" status -D "$DIR" >/dev/null 2>&1; then
  # fsync off: the data is thrown away, and tests should not wait on the disk.
  as_owner "$PG_BIN/pg_ctl" start -D "$DIR" -w -t 30 -l "$DIR/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories='$DIR' -c fsync=off -c max_connections=200" \
    >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
fi

psql_admin() {
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE $DB"
fi

echo "postgres://postgres@127.0.0.1:$PORT/$DB"
