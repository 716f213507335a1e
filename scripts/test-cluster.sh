#!/usr/bin/env bash
# One command for the cluster suites (npm run test:cluster): build, start the
# three-node Galera cluster and PgBouncer, run the Galera and PgBouncer
# suites with the cluster required, and stop what was started (by PID), even
# on failure or Ctrl-C. Needs root (mariadbd runs as mysql, pgbouncer as
# postgres) and Debian's galera-4, rsync, socat and pgbouncer: .ci/run
# installs them; by hand: apt-get install -y galera-4 rsync socat pgbouncer.
#   npm run test:cluster [-- REGEX]     REGEX on test file names (default: every cluster suite)
set -euo pipefail
cd "$(dirname "$0")/.."

filter=${1:-'cluster-|pgbouncer|galera-unit'}
trap 'scripts/pgbouncer.sh stop || true; scripts/galera.sh stop || true' EXIT
npm run build
scripts/galera.sh start
scripts/pgbouncer.sh start
export GLANCE_DB_TEST_GALERA_URLS GLANCE_DB_TEST_PGBOUNCER_URL
GLANCE_DB_TEST_GALERA_URLS=$(scripts/galera.sh urls)
GLANCE_DB_TEST_PGBOUNCER_URL=$(scripts/pgbouncer.sh url)
export GLANCE_DB_REQUIRE_CLUSTER=1
node test/run.mjs "$filter"
