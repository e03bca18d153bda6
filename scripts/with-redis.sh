#!/usr/bin/env bash
# Run a command with a throwaway Redis server, as the page cache of a site on several
# app hosts uses:
#
#   scripts/with-redis.sh COMMAND [ARG...]
#
# Installs Debian's `redis-server` when it is missing (apt-get), starts one on
# 127.0.0.1 on a free port (56379 or the next free one) with nothing saved to disk,
# exports REDIS_URL, runs COMMAND, then stops the server and deletes its folder,
# whatever COMMAND did. Exits with COMMAND's status.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing Redis (apt-get install redis-server)..." >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
PORT=56379
while port_in_use "$PORT"; do
  PORT=$((PORT + 1))
done

WORK=$(mktemp -d /tmp/clinic-redis.XXXXXX)
cleanup() {
  if [ -n "${REDIS_PID:-}" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A cache only: no snapshots, no append-only file (a restarted Redis starts empty).
redis-server --bind 127.0.0.1 --port "$PORT" --dir "$WORK" --save "" --appendonly no \
  --daemonize no --logfile "$WORK/redis.log" &
REDIS_PID=$!

for _ in $(seq 50); do
  if redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
if ! redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
  echo "Redis did not start; its log:" >&2
  cat "$WORK/redis.log" >&2
  exit 1
fi

echo "Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-) on 127.0.0.1:$PORT (throwaway, in $WORK)" >&2
export REDIS_URL="redis://127.0.0.1:$PORT/0"
set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
