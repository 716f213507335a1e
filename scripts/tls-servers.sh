#!/usr/bin/env bash
# A PostgreSQL and a MariaDB that speak TLS, on loopback, with a throwaway CA,
# for the TLS tests (issue 27 item 6) and for trying glance-db's TLS options by
# hand. The machine's own plain-text servers (5432, 3306) are never touched:
# they are the "server without TLS" of the tests.
#
#   scripts/tls-servers.sh start    certificates, then a PostgreSQL on $TLS_PG_PORT (15432) and a
#                                   MariaDB on $TLS_MYSQL_PORT (13316); nothing if both already run
#   scripts/tls-servers.sh stop     stop the two servers this script started (by their PIDs), remove the folder
#   scripts/tls-servers.sh status   one line per server; exit 3 if one is not running
#   scripts/tls-servers.sh urls     the two TLS-only test URLs (user glance_tls), one a line
#   scripts/tls-servers.sh env      `export GLANCE_DB_TEST_TLS_...=...` lines, for eval (below)
#
# Certificates, in $DIR/certs (made with openssl, valid 30 days):
#   ca.crt                 the CA that signed the server and client certificates
#   wrong-ca.crt           another CA that signed nothing the servers use (the wrong-CA test)
#   server.crt/.key        CN and SAN: DNS:localhost, IP:127.0.0.1, used by both servers
#   client.crt/.key        CN=glance_cert, for client-certificate authentication (key mode 0600)
# Both servers also listen on 127.0.0.2, an address the server certificate does
# not name: connecting there with host-name checking on is the wrong-host test.
#
# Accounts on both servers (the password is random, made at start, in $DIR/password):
#   glance_tls   password, TLS only (PostgreSQL: hostssl scram-sha-256, hostnossl reject;
#                MariaDB: REQUIRE SSL); may create databases
#   glance_cert  no password: PostgreSQL `cert` authentication (CN = user name),
#                MariaDB REQUIRE X509 (any certificate the CA signed); may create databases
#   glance_any   password, TLS or plain text: to check on the server that a client that
#                asked for TLS really used it (pg_stat_ssl, SHOW STATUS LIKE 'Ssl_cipher')
#   admin        PostgreSQL: postgres over the Unix socket in $DIR/pg (psql -h $DIR/pg -p PORT -U postgres);
#                MariaDB: root over $DIR/mariadb/mysqld.sock (unix_socket authentication)
# Each server has a database `test` that the three users may use.
#
# Needs openssl, the machine's PostgreSQL server binaries (/usr/lib/postgresql/N/bin,
# newest N, or $TLS_PG_BIN) and mariadb-server. Runs as root: PostgreSQL runs as the
# postgres user, mariadbd as mysql. Everything lives under $TLS_DIR (default
# /tmp/glance-db-tls): certs/, pg/ (data, log, pid), mariadb/ (my.cnf, data, error.log, pid).
#
# In CI (.ci/run):  scripts/tls-servers.sh start && eval "$(scripts/tls-servers.sh env)"
set -euo pipefail

DIR=${TLS_DIR:-/tmp/glance-db-tls}
PG_PORT=${TLS_PG_PORT:-15432}
MY_PORT=${TLS_MYSQL_PORT:-13316}
HOST=localhost
WRONG_HOST=127.0.0.2
DB=test

say() { echo "tls-servers: $*" >&2; }
die() { say "error: $*"; exit 2; }

pg_bin() {
  if [[ -n ${TLS_PG_BIN:-} ]]; then echo "$TLS_PG_BIN"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n $d && -x $d/postgres ]] || return 1
  echo "$d"
}

# The PID this script started for a server, if that process is still ours.
live_pid() { # live_pid pg|mariadb
  local f="$DIR/$1/pid" pid pat
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  if [[ $1 == pg ]]; then pat="-D $DIR/pg/data"; else pat="--defaults-file=$DIR/mariadb/my.cnf"; fi
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pat" || return 1
  echo "$pid"
}

pg_admin() { psql -X -q -v ON_ERROR_STOP=1 -h "$DIR/pg" -p "$PG_PORT" -U postgres "$@"; }
my_admin() { mariadb --no-defaults -S "$DIR/mariadb/mysqld.sock" -u root "$@"; }

# ---------------------------------------------------------------- certificates

make_ca() { # make_ca NAME CN
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 30 \
    -keyout "$DIR/certs/$1.key" -out "$DIR/certs/$1.crt" -subj "/CN=$2" \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext 'subjectKeyIdentifier=hash' 2>/dev/null
}

make_leaf() { # make_leaf NAME CN EXTENSIONS   (signed by ca)
  local c="$DIR/certs"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$c/$1.key" -out "$c/$1.csr" -subj "/CN=$2" 2>/dev/null
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' "$3" >"$c/$1.ext"
  openssl x509 -req -sha256 -days 30 -in "$c/$1.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
    -extfile "$c/$1.ext" -out "$c/$1.crt" 2>/dev/null
  rm -f "$c/$1.csr" "$c/$1.ext"
}

make_certs() {
  mkdir -p "$DIR/certs"
  make_ca ca 'glance-db test CA'
  make_ca wrong-ca 'glance-db wrong CA'
  make_leaf server localhost $'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1'
  make_leaf client glance_cert 'extendedKeyUsage=clientAuth'
  # Nothing needs the CAs' keys any more: no one can sign with them.
  rm -f "$DIR/certs/ca.key" "$DIR/certs/wrong-ca.key" "$DIR/certs/ca.srl"
  chmod 644 "$DIR/certs/"*.crt
  # libpq refuses a client key that others can read (unless root owns it).
  chmod 600 "$DIR/certs/"*.key
  # Each server gets its own copy of the server key, owned by the user it runs as, mode 0600:
  # PostgreSQL refuses a key file that others can read.
  install -o postgres -g postgres -m 600 "$DIR/certs/server.key" "$DIR/pg/server.key"
  install -o mysql -g mysql -m 600 "$DIR/certs/server.key" "$DIR/mariadb/server.key"
  openssl verify -CAfile "$DIR/certs/ca.crt" "$DIR/certs/server.crt" "$DIR/certs/client.crt" >/dev/null ||
    die "the certificates do not verify"
}

# ---------------------------------------------------------------- PostgreSQL

start_pg() {
  local bin d="$DIR/pg" pid=""
  bin=$(pg_bin) || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (set TLS_PG_BIN)"
  setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$bin/initdb" -D "$d/data" -U postgres --auth-local=trust --auth-host=reject -E UTF8 --no-sync \
    >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; die "initdb failed"; }
  cat >>"$d/data/postgresql.conf" <<EOF

# scripts/tls-servers.sh
listen_addresses = '127.0.0.1,$WRONG_HOST'
port = $PG_PORT
unix_socket_directories = '$d'
unix_socket_permissions = 0700
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$DIR/certs/server.crt'
ssl_key_file = '$d/server.key'
ssl_ca_file = '$DIR/certs/ca.crt'
password_encryption = 'scram-sha-256'
log_connections = on
logging_collector = off
EOF
  # First match wins. The admin only through the socket; glance_any with or
  # without TLS; every other TCP connection without TLS is rejected.
  cat >"$d/data/pg_hba.conf" <<EOF
local     all  postgres                 trust
local     all  all                      reject
hostssl   all  glance_tls   127.0.0.0/8 scram-sha-256
hostssl   all  glance_cert  127.0.0.0/8 cert
host      all  glance_any   127.0.0.0/8 scram-sha-256
hostnossl all  all          127.0.0.0/8 reject
EOF
  chown postgres:postgres "$d/data/postgresql.conf" "$d/data/pg_hba.conf"
  # setpriv execs (no fork), and setsid does not fork either (the background job is
  # not a process-group leader): $! is the postmaster itself.
  setpriv --reuid=postgres --regid=postgres --init-groups -- \
    setsid "$bin/postgres" -D "$d/data" >>"$d/postgres.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
  for _ in $(seq 1 60); do
    live_pid pg >/dev/null || { tail -n 20 "$d/postgres.log" >&2; die "PostgreSQL exited while starting"; }
    pg_admin -d postgres -c 'SELECT 1' >/dev/null 2>&1 && { pid=$(cat "$d/pid"); break; }
    sleep 0.5
  done
  [[ -n $pid ]] || { tail -n 20 "$d/postgres.log" >&2; die "PostgreSQL does not answer on $d"; }
  pg_admin -d postgres <<SQL
CREATE ROLE glance_tls LOGIN CREATEDB PASSWORD '$PASSWORD';
CREATE ROLE glance_any LOGIN CREATEDB PASSWORD '$PASSWORD';
CREATE ROLE glance_cert LOGIN CREATEDB;
CREATE DATABASE $DB OWNER glance_tls;
GRANT glance_tls TO glance_any, glance_cert;
SQL
  say "PostgreSQL started, PID $pid, port $PG_PORT"
}

# ---------------------------------------------------------------- MariaDB

start_mariadb() {
  local d="$DIR/mariadb" pid=""
  command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || die "mariadbd is missing: apt-get install mariadb-server"
  mkdir -p "$d/data"
  cat >"$d/my.cnf" <<EOF
[mysqld]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=$MY_PORT
bind-address=127.0.0.1,$WRONG_HOST
skip-name-resolve
skip-log-bin
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
innodb_buffer_pool_size=64M
innodb_flush_log_at_trx_commit=2
max_connections=60
# For the server-side check that a connection uses TLS, while it is open:
# performance_schema.status_by_thread, VARIABLE_NAME = 'Ssl_cipher'.
performance_schema=ON
performance_schema_max_thread_instances=200
performance_schema_accounts_size=20
performance_schema_hosts_size=20
performance_schema_users_size=20
performance_schema_digests_size=0
performance_schema_max_digest_length=0
performance_schema_max_sql_text_length=0
performance_schema_events_statements_history_size=0
performance_schema_events_statements_history_long_size=0
performance_schema_events_waits_history_size=0
performance_schema_events_waits_history_long_size=0
performance_schema_events_stages_history_size=0
performance_schema_events_stages_history_long_size=0
performance_schema_session_connect_attrs_size=0
ssl-ca=$DIR/certs/ca.crt
ssl-cert=$DIR/certs/server.crt
ssl-key=$d/server.key
EOF
  chown -R mysql:mysql "$d"
  mariadb-install-db --defaults-file="$d/my.cnf" --user=mysql --skip-test-db \
    >"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; die "mariadb-install-db failed"; }
  setsid /usr/sbin/mariadbd --defaults-file="$d/my.cnf" --user=mysql >>"$d/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
  for _ in $(seq 1 60); do
    live_pid mariadb >/dev/null || { tail -n 20 "$d/error.log" >&2; die "MariaDB exited while starting"; }
    my_admin -e 'SELECT 1' >/dev/null 2>&1 && { pid=$(cat "$d/pid"); break; }
    sleep 0.5
  done
  [[ -n $pid ]] || { tail -n 20 "$d/error.log" >&2; die "MariaDB does not answer on $d/mysqld.sock"; }
  [[ $(my_admin -N -B -e "SELECT @@have_ssl") == YES ]] || { tail -n 20 "$d/error.log" >&2; die "MariaDB started without TLS"; }
  # skip-name-resolve: accounts are by address; 127.0.0.% covers 127.0.0.1 and $WRONG_HOST.
  my_admin <<SQL
CREATE USER glance_tls@'127.0.0.%' IDENTIFIED BY '$PASSWORD' REQUIRE SSL;
CREATE USER glance_cert@'127.0.0.%' REQUIRE X509;
CREATE USER glance_any@'127.0.0.%' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO glance_tls@'127.0.0.%', glance_cert@'127.0.0.%', glance_any@'127.0.0.%';
CREATE DATABASE $DB CHARACTER SET utf8;
SQL
  say "MariaDB started, PID $pid, port $MY_PORT"
}

# ---------------------------------------------------------------- commands

start() {
  local pg my
  pg=$(live_pid pg || true)
  my=$(live_pid mariadb || true)
  if [[ -n $pg && -n $my ]]; then say "already running (PostgreSQL PID $pg, MariaDB PID $my)"; return 0; fi
  [[ -z $pg && -z $my ]] || die "only one of the two servers runs; run: $0 stop"
  [[ $(id -u) == 0 ]] || die "run as root (the servers run as the postgres and mysql users)"
  command -v openssl >/dev/null || die "openssl is missing: apt-get install openssl"
  local port
  for port in "$PG_PORT" "$MY_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "something else listens on 127.0.0.1:$port (set TLS_PG_PORT / TLS_MYSQL_PORT)"; fi
  done
  rm -rf "$DIR"
  mkdir -p "$DIR/pg" "$DIR/mariadb"
  chmod 755 "$DIR"
  chown postgres:postgres "$DIR/pg"
  chmod 700 "$DIR/pg"
  # Letters and digits only: it goes into URLs and SQL literals as it is.
  PASSWORD=$(openssl rand -hex 16)
  (umask 077 && echo "$PASSWORD" >"$DIR/password")
  make_certs
  start_pg
  start_mariadb
  say "ready; for the tests: eval \"\$($0 env)\""
}

stop_one() { # stop_one pg|mariadb NAME SIGNAL
  local pid
  pid=$(live_pid "$1") || { rm -f "$DIR/$1/pid"; return 0; }
  kill "-$3" "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$2 (PID $pid) did not stop in 60s: kill -9"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$DIR/$1/pid"
  say "$2 stopped (PID $pid)"
}

stop() {
  [[ -d $DIR ]] || { say "not running"; return 0; }
  # SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients).
  stop_one pg PostgreSQL INT
  stop_one mariadb MariaDB TERM
  # Anything still running from the folder was not started by this script's
  # last start: leave the folder to whoever owns it.
  if [[ -f $DIR/pg/pid || -f $DIR/mariadb/pid ]]; then die "a PID file is left in $DIR; not removing it"; fi
  rm -rf "$DIR"
}

status() {
  local rc=0 pid
  if pid=$(live_pid pg); then
    echo "PostgreSQL: PID $pid, port $PG_PORT, ssl $(pg_admin -d postgres -At -c 'SHOW ssl' 2>/dev/null || echo '?')"
  else echo "PostgreSQL: not running"; rc=3; fi
  if pid=$(live_pid mariadb); then
    echo "MariaDB: PID $pid, port $MY_PORT, have_ssl $(my_admin -N -B -e 'SELECT @@have_ssl' 2>/dev/null || echo '?')"
  else echo "MariaDB: not running"; rc=3; fi
  return $rc
}

password() { [[ -f $DIR/password ]] || die "not started: run $0 start"; cat "$DIR/password"; }

urls() {
  local pw
  pw=$(password)
  echo "postgresql://glance_tls:$pw@$HOST:$PG_PORT/$DB"
  echo "mysql://glance_tls:$pw@$HOST:$MY_PORT/$DB"
}

env_lines() {
  local pw c="$DIR/certs"
  pw=$(password)
  local -a vars=(
    "DIR=$DIR"
    "CA=$c/ca.crt"
    "WRONG_CA=$c/wrong-ca.crt"
    "CLIENT_CERT=$c/client.crt"
    "CLIENT_KEY=$c/client.key"
    "HOST=$HOST"
    "WRONG_HOST=$WRONG_HOST"
    "PG_PORT=$PG_PORT"
    "MYSQL_PORT=$MY_PORT"
    "DATABASE=$DB"
    "USER=glance_tls"
    "CERT_USER=glance_cert"
    "ANY_USER=glance_any"
    "PASSWORD=$pw"
    "PG_URL=postgresql://glance_tls:$pw@$HOST:$PG_PORT/$DB"
    "MYSQL_URL=mysql://glance_tls:$pw@$HOST:$MY_PORT/$DB"
    "PG_SOCKET=$DIR/pg"
    "MYSQL_SOCKET=$DIR/mariadb/mysqld.sock"
  )
  local v
  for v in "${vars[@]}"; do printf 'export GLANCE_DB_TEST_TLS_%s=%q\n' "${v%%=*}" "${v#*=}"; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  urls) urls ;;
  env) env_lines ;;
  *) die "usage: $0 start|stop|status|urls|env" ;;
esac
