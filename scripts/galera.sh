#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on loopback, for the cluster tests
# (test/cluster-galera.test.ts) and for trying glance-db by hand.
#
#   scripts/galera.sh start          fresh datadirs, bootstrap node 1, join 2 and 3, wait for 3 Synced nodes
#   scripts/galera.sh stop           stop the nodes this script started (by their PIDs), keep the datadirs
#   scripts/galera.sh status         one line per node: PID, wsrep state, cluster size
#   scripts/galera.sh urls           the node URLs, comma-separated (GLANCE_DB_TEST_GALERA_URLS)
#   scripts/galera.sh kill N         kill -9 node N's mariadbd (a crash, for the trials)
#   scripts/galera.sh start-node N   start node N again; it rejoins (IST or SST) and is waited for until Synced
#
# Needs Debian's mariadb-server and galera-4 (and rsync, socat for SST). Runs
# as root (mariadbd itself runs as the mysql user). Root has no password on
# the nodes. Everything lives under $GALERA_DIR (default /tmp/glance-db-galera):
# nodeN/my.cnf, nodeN/data, nodeN/error.log, nodeN/pid (the PID this script
# started). Ports: client 13306-13308, Galera 14567-14569, IST 14577-14579,
# SST 14587-14589 ($GALERA_PORT_BASE shifts them all). The system MariaDB on
# 3306 is never touched.
set -euo pipefail

DIR=${GALERA_DIR:-/tmp/glance-db-galera}
BASE=${GALERA_PORT_BASE:-0}
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
NODES=(1 2 3)

client_port() { echo $((13305 + $1 + BASE)); }
gcomm_port() { echo $((14566 + $1 + BASE)); }
ist_port() { echo $((14576 + $1 + BASE)); }
sst_port() { echo $((14586 + $1 + BASE)); }

say() { echo "galera: $*" >&2; }
die() { say "error: $*"; exit 2; }

sql() { # sql N STATEMENT -> tab-separated rows
  mariadb --protocol=tcp -h 127.0.0.1 -P "$(client_port "$1")" -u root -N -B -e "$2" 2>/dev/null
}

status_var() { sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | awk '{print $2}'; }

# The PID this script started for node N, if that process is still our mariadbd.
live_pid() {
  local f="$DIR/node$1/pid" pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--defaults-file=$DIR/node$1/my.cnf" || return 1
  echo "$pid"
}

write_cnf() {
  local n=$1 d="$DIR/node$1" addrs=""
  for m in "${NODES[@]}"; do addrs+="${addrs:+,}127.0.0.1:$(gcomm_port "$m")"; done
  cat >"$d/my.cnf" <<EOF
[mysqld]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=$(client_port "$n")
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
default_storage_engine=InnoDB
binlog_format=ROW
innodb_autoinc_lock_mode=2
innodb_buffer_pool_size=${GALERA_BUFFER_POOL:-128M}
innodb_log_file_size=96M
innodb_flush_log_at_trx_commit=2
max_connections=200
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=glance-db-test
wsrep_cluster_address=gcomm://$addrs
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$(gcomm_port "$n")
wsrep_node_incoming_address=127.0.0.1:$(client_port "$n")
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=${GALERA_GCACHE:-512M};pc.weight=1"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
EOF
}

launch() { # launch N [extra mariadbd args...]
  local n=$1 d="$DIR/node$1"
  shift
  setsid /usr/sbin/mariadbd --defaults-file="$d/my.cnf" --user=mysql "$@" >>"$d/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
  say "node $n started, PID $!, client port $(client_port "$n")"
}

wait_synced() { # wait_synced N [seconds]
  local n=$1 limit=${2:-180} state
  for _ in $(seq 1 "$limit"); do
    if ! live_pid "$n" >/dev/null; then
      say "node $n exited while starting; last lines of $DIR/node$n/error.log:"
      tail -n 20 "$DIR/node$n/error.log" >&2 || true
      return 1
    fi
    state=$(status_var "$n" wsrep_local_state_comment || true)
    [[ $state == Synced ]] && return 0
    sleep 1
  done
  say "node $n is not Synced after ${limit}s (state: ${state:-unreachable})"
  return 1
}

wait_size() {
  for _ in $(seq 1 120); do
    local ok=1
    for n in "${NODES[@]}"; do [[ $(status_var "$n" wsrep_cluster_size || true) == 3 ]] || ok=0; done
    ((ok)) && return 0
    sleep 1
  done
  say "wsrep_cluster_size did not reach 3"
  return 1
}

urls() {
  local out=""
  for n in "${NODES[@]}"; do out+="${out:+,}mysql://root@127.0.0.1:$(client_port "$n")/test"; done
  echo "$out"
}

start() {
  for n in "${NODES[@]}"; do
    if pid=$(live_pid "$n"); then die "node $n is already running (PID $pid); run: $0 stop"; fi
  done
  [[ -f $PROVIDER ]] || die "$PROVIDER is missing: apt-get install galera-4"
  command -v rsync >/dev/null || die "rsync is missing (SST): apt-get install rsync"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  for n in "${NODES[@]}"; do
    mkdir -p "$DIR/node$n/data"
    write_cnf "$n"
  done
  chown -R mysql:mysql "$DIR"
  mariadb-install-db --defaults-file="$DIR/node1/my.cnf" --user=mysql --auth-root-authentication-method=normal \
    --skip-test-db >"$DIR/node1/install.log" 2>&1 || { cat "$DIR/node1/install.log" >&2; die "mariadb-install-db failed"; }
  launch 1 --wsrep-new-cluster
  # skip-name-resolve: TCP clients from 127.0.0.1 need their own root account.
  for _ in $(seq 1 60); do
    mariadb -S "$DIR/node1/mysqld.sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
    live_pid 1 >/dev/null || { tail -n 20 "$DIR/node1/error.log" >&2; die "node 1 did not start"; }
    sleep 1
  done
  mariadb -S "$DIR/node1/mysqld.sock" -u root -e "CREATE USER IF NOT EXISTS root@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS test;"
  wait_synced 1
  for n in 2 3; do
    launch "$n"
    wait_synced "$n"
  done
  wait_size
  say "3 nodes Synced: $(urls)"
}

stop_node() {
  local n=$1 pid
  pid=$(live_pid "$n") || { rm -f "$DIR/node$n/pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "node $n (PID $pid) did not stop in 60s: kill -9"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/node$n/pid"
  say "node $n stopped (PID $pid)"
}

stop() {
  # The last node up is stopped last, so it could bootstrap the cluster again.
  for n in 3 2 1; do stop_node "$n"; done
}

status() {
  local rc=0
  for n in "${NODES[@]}"; do
    if pid=$(live_pid "$n"); then
      echo "node $n: PID $pid, port $(client_port "$n"), $(status_var "$n" wsrep_local_state_comment || echo unreachable), cluster size $(status_var "$n" wsrep_cluster_size || echo '?'), $(status_var "$n" wsrep_cluster_status || echo '?')"
    else
      echo "node $n: not running"
      rc=3
    fi
  done
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  urls) urls ;;
  kill)
    [[ ${2:-} =~ ^[123]$ ]] || die "usage: $0 kill 1|2|3"
    pid=$(live_pid "$2") || die "node $2 is not running"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    rm -f "$DIR/node$2/pid"
    say "node $2 killed (PID $pid)"
    ;;
  start-node)
    [[ ${2:-} =~ ^[123]$ ]] || die "usage: $0 start-node 1|2|3"
    if pid=$(live_pid "$2"); then die "node $2 is already running (PID $pid)"; fi
    launch "$2"
    wait_synced "$2" 300
    wait_size
    say "node $2 rejoined and is Synced"
    ;;
  *) die "usage: $0 start|stop|status|urls|kill N|start-node N" ;;
esac
