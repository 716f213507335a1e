#!/bin/bash
# The start-up layer table of docs/performance.md: hyperfine over every layer,
# ROUNDS rounds of RUNS runs each (all commands once per round, so a busy
# machine slows every command alike), then per command the median of all runs
# (wall) and the median of the rounds' mean user+system CPU, each also as a
# ratio to `node -e 0` measured in the same rounds.
#   npm run build && node scripts/sea.mjs --out /tmp/sea && node scripts/sea.mjs --no-snapshot --out /tmp/sea/cc
#   PG_URL=postgresql://... MY_URL=mysql://... bash bench/startup-layers.sh /tmp/sea
# PG_URL and MY_URL name databases this script may sync to the newest version
# (left out if unset). Needs hyperfine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SEA_DIR=${1:?usage: startup-layers.sh SEA_DIR}
S=$SEA_DIR/glance-db-$(node -p 'process.platform + "-" + process.arch')
C=$SEA_DIR/cc/$(basename "$S")
ROUNDS=${ROUNDS:-8}; RUNS=${RUNS:-6}
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
export XDG_CACHE_HOME=$WORK/cache
cd "$WORK"
node "$ROOT/bin/run.js" sync >/dev/null            # glance.sqlite at the newest version
"$S" version >/dev/null                               # the executable unpacks once
[ -x "$C" ] && "$C" version >/dev/null
cmds=(-n 'node -e 0' 'node -e 0'
  -n 'sql.js alone: load, compile, open the file, one query' "node --liftoff-only -e \"require('$ROOT/node_modules/sql.js')().then(S=>new S.Database(require('fs').readFileSync('glance.sqlite')).exec('select max(version) from glance_db_version'))\""
  -n 'importing the bundle (oclif, yaml, glance-db)' "node --input-type=module -e \"await import('$ROOT/dist/bundle/cli.js'); await import('$ROOT/dist/bundle/commands.js')\""
  -n 'glance-db --version' "node $ROOT/bin/run.js --version"
  -n 'glance-db version, SQLite' "node $ROOT/bin/run.js version"
  -n 'executable --version' "$S --version"
  -n 'executable version, SQLite' "$S version")
[ -x "$C" ] && cmds+=(-n 'executable without snapshot (code cache), version, SQLite' "$C version")
for v in PG_URL:PostgreSQL MY_URL:MySQL; do
  var=${v%%:*}; url=${!var:-}; [ -n "$url" ] || continue
  node "$ROOT/bin/run.js" sync --url "$url" >/dev/null
  cmds+=(-n "glance-db version, ${v#*:}" "node $ROOT/bin/run.js version --url $url" -n "executable version, ${v#*:}" "$S version --url $url")
done
cmds+=(-n 'glance-db sync, fresh SQLite file' "bash -c 'rm -f fresh.sqlite; exec node $ROOT/bin/run.js sync --url sqlite:fresh.sqlite'"
  -n 'executable sync, fresh SQLite file' "bash -c 'rm -f fresh.sqlite; exec $S sync --url sqlite:fresh.sqlite'")
for r in $(seq 1 "$ROUNDS"); do
  hyperfine -N -w 2 -r "$RUNS" --export-json "$WORK/r$r.json" "${cmds[@]}" >/dev/null 2>&1
done
node -e '
const fs = require("fs"); const dir = process.argv[1]; const wall = {}, cpu = {};
for (const f of fs.readdirSync(dir).filter((f) => /^r\d+\.json$/.test(f)))
  for (const r of JSON.parse(fs.readFileSync(`${dir}/${f}`)).results) {
    (wall[r.command] ??= []).push(...r.times);
    (cpu[r.command] ??= []).push(r.user + r.system);
  }
const med = (a) => { a = [...a].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
const w0 = med(wall["node -e 0"]), c0 = med(cpu["node -e 0"]);
console.log("| what runs | runs | wall, median | / node -e 0 | CPU (user+sys), median | / node -e 0 |\n|---|---|---|---|---|---|");
for (const k of Object.keys(wall))
  console.log(`| ${k} | ${wall[k].length} | ${(med(wall[k]) * 1000).toFixed(0)} ms | ${(med(wall[k]) / w0).toFixed(2)}x | ${(med(cpu[k]) * 1000).toFixed(0)} ms | ${(med(cpu[k]) / c0).toFixed(2)}x |`);
' "$WORK"
