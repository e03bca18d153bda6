#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#
#   scripts/with-postgres.sh COMMAND [ARG...]
#
# Installs Debian's `postgresql` when it is missing (apt-get), creates a cluster in a
# temporary folder, starts it on 127.0.0.1 on a free port (55432 or the next free
# one), creates the role and database `clinic` (the role may create databases, as
# pytest-django's test database needs), exports DATABASE_URL, runs COMMAND, then
# stops the cluster and deletes the folder, whatever COMMAND did. Exits with
# COMMAND's status.
#
# Also exported for the load test: POSTGRES_ADMIN_URL (the cluster's superuser, for
# creating throwaway databases and running amcheck) and PATH with the server's own
# pg_dump, pg_restore and psql first.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

find_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

BINDIR=$(find_bindir)
if [ -z "$BINDIR" ]; then
  echo "Installing PostgreSQL (apt-get install postgresql)..." >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  BINDIR=$(find_bindir)
  [ -n "$BINDIR" ] || { echo "PostgreSQL's initdb not found after installing." >&2; exit 1; }
fi

# root may not run initdb or the server: they run as the `postgres` user then.
AS=()
CLUSTER=$(mktemp -d "${TMPDIR:-/tmp}/clinic-postgres.XXXXXX")
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$CLUSTER"
  AS=(runuser -u postgres --)
fi
PGDATA_DIR="$CLUSTER/data"
PGLOG="$CLUSTER/postgres.log"
STARTED=""

cleanup() {
  local status=$?
  if [ -n "$STARTED" ]; then
    (cd "$CLUSTER" && "${AS[@]}" "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop \
      >/dev/null 2>&1) || echo "Could not stop the PostgreSQL cluster in $CLUSTER." >&2
  fi
  rm -rf "$CLUSTER"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_postgres() {
  # From inside the cluster folder: the postgres user may not enter the caller's.
  (cd "$CLUSTER" && "${AS[@]}" "$@")
}

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
PASSWORD=$(secret)
ADMIN_PASSWORD=$(secret)

as_postgres "$BINDIR/initdb" -D "$PGDATA_DIR" -U postgres --encoding=UTF8 --no-locale \
  --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$CLUSTER/initdb.log" 2>&1 \
  || { cat "$CLUSTER/initdb.log" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT=""
for candidate in $(seq 55432 55531); do
  port_in_use "$candidate" && continue
  # Loopback only; the socket lives in the cluster folder, not /var/run/postgresql.
  if as_postgres "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w -t 60 -o \
    "-c listen_addresses=127.0.0.1 -c port=$candidate -c unix_socket_directories=$CLUSTER" \
    start >/dev/null 2>&1; then
    PORT=$candidate
    STARTED=1
    break
  fi
done
if [ -z "$PORT" ]; then
  echo "Could not start PostgreSQL on a free port in 55432-55531:" >&2
  tail -n 20 "$PGLOG" >&2 || true
  exit 1
fi

# Passwords go through standard input, never on a command line others can see.
as_postgres "$BINDIR/psql" -h "$CLUSTER" -p "$PORT" -U postgres -d postgres -q \
  -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE clinic LOGIN CREATEDB PASSWORD '$PASSWORD';
CREATE DATABASE clinic OWNER clinic;
ALTER ROLE postgres PASSWORD '$ADMIN_PASSWORD';
SQL

export DATABASE_URL="postgres://clinic:$PASSWORD@127.0.0.1:$PORT/clinic"
export POSTGRES_ADMIN_URL="postgres://postgres:$ADMIN_PASSWORD@127.0.0.1:$PORT/postgres"
export PATH="$BINDIR:$PATH"
echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" \
  "(throwaway cluster in $CLUSTER)" >&2

status=0
"$@" || status=$?
exit "$status"
