#!/usr/bin/env bash
# PgBouncer in transaction pooling mode in front of the local PostgreSQL, for
# the PgBouncer tests (test/pgbouncer.test.ts) and for trying glance-db by hand.
#
#   scripts/pgbouncer.sh start    listen on 127.0.0.1:$PGBOUNCER_PORT (6432), every database -> 127.0.0.1:5432
#   scripts/pgbouncer.sh stop     stop the PgBouncer this script started, by its PID
#   scripts/pgbouncer.sh url      the test URL (GLANCE_DB_TEST_PGBOUNCER_URL)
#
# Needs Debian's pgbouncer. PgBouncer refuses to run as root, so it runs as
# the postgres user. Four server connections per database, fewer than the
# eight concurrent runs of the tests, so transactions of different clients
# share server connections. Clients are trusted (auth_type = any: loopback only),
# and PgBouncer logs in to PostgreSQL as postgres (auth_type = any needs one forced user). Files in
# $PGBOUNCER_DIR (default /tmp/glance-db-pgbouncer): pgbouncer.ini, log, pid.
set -euo pipefail

DIR=${PGBOUNCER_DIR:-/tmp/glance-db-pgbouncer}
PORT=${PGBOUNCER_PORT:-6432}
PGHOST=${PGBOUNCER_UPSTREAM_HOST:-127.0.0.1}
PGPORT=${PGBOUNCER_UPSTREAM_PORT:-5432}
RUN_AS=${PGBOUNCER_USER:-postgres}

say() { echo "pgbouncer: $*" >&2; }
die() { say "error: $*"; exit 2; }

live_pid() {
  [[ -f $DIR/pid ]] || return 1
  local pid
  pid=$(cat "$DIR/pid")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$DIR/pgbouncer.ini" || return 1
  echo "$pid"
}

as_user() { if [[ $(id -u) == 0 ]]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi; }

start() {
  command -v pgbouncer >/dev/null || die "pgbouncer is missing: apt-get install pgbouncer"
  if pid=$(live_pid); then die "already running (PID $pid); run: $0 stop"; fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PGHOST port=$PGPORT user=$RUN_AS

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 200
default_pool_size = 4
server_reset_query =
ignore_startup_parameters = extra_float_digits,options,statement_timeout,idle_in_transaction_session_timeout
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
admin_users = postgres
INI
  [[ $(id -u) == 0 ]] && chown -R "$RUN_AS" "$DIR"
  # Not -d: kept in the foreground of its own session; its PID is the one
  # it writes to its pidfile (checked against its command line).
  as_user setsid pgbouncer "$DIR/pgbouncer.ini" >>"$DIR/stdout.log" 2>&1 </dev/null &
  local pid=""
  for _ in $(seq 1 50); do
    if [[ -s $DIR/pgbouncer.pid ]]; then
      pid=$(cat "$DIR/pgbouncer.pid")
      tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DIR/pgbouncer.ini" && break
      pid=""
    fi
    sleep 0.1
  done
  [[ -n $pid ]] || { cat "$DIR/stdout.log" "$DIR/pgbouncer.log" >&2 2>/dev/null; die "pgbouncer did not start"; }
  echo "$pid" >"$DIR/pid"
  for _ in $(seq 1 50); do
    if psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
      say "started, PID $pid, $(url)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$DIR/pgbouncer.log" >&2 || true
  die "pgbouncer does not answer on 127.0.0.1:$PORT"
}

stop() {
  local pid
  pid=$(live_pid) || { rm -f "$DIR/pid"; say "not running"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/pid"
  say "stopped (PID $pid)"
}

url() { echo "postgresql://postgres@127.0.0.1:$PORT/test"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  status) if pid=$(live_pid); then echo "running, PID $pid, $(url)"; else echo "not running"; exit 3; fi ;;
  *) die "usage: $0 start|stop|status|url" ;;
esac
