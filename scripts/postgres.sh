#!/usr/bin/env bash
# The PostgreSQL server the Orleans tests and the local cluster store their state in: installs it (Debian's
# postgresql package) when the machine lacks it, creates a cluster of its own in a folder, starts it on a port of its
# own (so it does not meet a server the machine already runs), and creates the database.
#
#   scripts/postgres.sh start     install if needed, initialise if needed, start; prints the connection string
#   scripts/postgres.sh stop
#   scripts/postgres.sh status
#
# Environment: MLNETRNN_PG_DIR (default /tmp/mlnetrnn-postgres), MLNETRNN_PG_PORT (default 55432).
# The tests read MLNETRNN_POSTGRES (an Npgsql connection string) and otherwise use the one this script prints.
set -euo pipefail
DIR="${MLNETRNN_PG_DIR:-/tmp/mlnetrnn-postgres}"
PORT="${MLNETRNN_PG_PORT:-55432}"
DB=mlnetrnn

bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_owner() {
  # PostgreSQL refuses to run as root: run its tools as the 'postgres' user the Debian package creates.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_if_missing() {
  bin_dir >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed and this user cannot install it (run as root, or: apt-get install -y postgresql)." >&2
    exit 1
  fi
  echo "Installing PostgreSQL (Debian package postgresql)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

start() {
  install_if_missing
  local bin; bin="$(bin_dir)"
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_owner "$bin/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_owner "$bin/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    # Unix socket in the data folder; TCP on loopback only.
    as_owner "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE $DB" >/dev/null
  fi
  echo "Host=127.0.0.1;Port=$PORT;Username=postgres;Database=$DB"
}

stop() {
  local bin; bin="$(bin_dir)" || exit 0
  [ -f "$DIR/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
}

status() {
  local bin; bin="$(bin_dir)" || { echo "not installed"; exit 1; }
  as_owner "$bin/pg_ctl" -D "$DIR" status
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
