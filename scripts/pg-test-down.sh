#!/usr/bin/env bash
# Stops the throwaway PostgreSQL started by scripts/pg-test-up.sh and deletes its data directory.
# Takes the same SLIPWAY_PG_PORT / SLIPWAY_PG_DIR / PG_BIN variables; does nothing if it is not there.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PORT="${SLIPWAY_PG_PORT:-55432}"
DIR="${SLIPWAY_PG_DIR:-${TMPDIR:-/tmp}/slipway-pg-test-$PORT}"

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ ! -f "$DIR/PG_VERSION" ]; then
  echo "no test database in $DIR" >&2
  exit 0
fi
if as_owner "$PG_BIN/pg_ctl" status -D "$DIR" >/dev/null 2>&1; then
  as_owner "$PG_BIN/pg_ctl" stop -D "$DIR" -m fast -w >/dev/null
fi
rm -rf "$DIR"
echo "stopped and removed $DIR" >&2
