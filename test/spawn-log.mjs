// Counts the CLI processes each test file starts (issue 30: the suite's time
// went to starting the CLI, not to the servers). Loaded into every node
// process through NODE_OPTIONS, it passes the test file's name down to the
// processes that file starts, and each glance-db process (bin/run.js, or a
// link to it such as glance-manage) appends one line "FILE spawn COMMAND":
//
//   GLANCE_DB_TEST_SPAWN_LOG=/tmp/spawns NODE_OPTIONS="--import $PWD/test/spawn-log.mjs" \
//     node test/run.mjs --jobs 1 REGEX
//   awk '{print $1}' /tmp/spawns | sort | uniq -c
//
// Runs in process (runCli) start nothing and are not counted.
import { appendFileSync, chmodSync } from 'node:fs';
import { basename } from 'node:path';

const log = process.env.GLANCE_DB_TEST_SPAWN_LOG;
const me = process.argv[1] ?? '';
if (log) {
  if (me.endsWith('.test.js')) {
    process.env.GLANCE_DB_TEST_SPAWN_PARENT = basename(me, '.test.js');
    // Writable by every user: sqlite-files runs glance-db as user 65534, whose line
    // otherwise failed with EACCES (and failed that test).
    appendFileSync(log, '');
    try {
      chmodSync(log, 0o666);
    } catch {
      // Another user's log: theirs to open up.
    }
  } else if (/(run\.js|glance-manage|glance-db)$/.test(me))
    appendFileSync(log, `${process.env.GLANCE_DB_TEST_SPAWN_PARENT ?? '?'} spawn ${process.argv[2] ?? ''}\n`);
}
