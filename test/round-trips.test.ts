// Round trips per command (issue 31): every deploy runs a no-op sync, most
// of whose time after start-up is requests to the server. The counts the
// client makes (GLANCE_DB_ROUND_TRIPS, src/platform/round-trips.ts) are pinned
// here, so that a change that adds requests to the no-op sync, `version` or
// the fresh sync fails a test instead of slowing every deploy unnoticed.
// docs/performance.md "Round trips" has the counts and what each request is.
// A count, never a time: timings belong to bench/.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlEnv, postgresEnv, withDb, type DialectEnv } from './dialects.js';
import { cli } from './helpers.js';

/** At most this many; lower them when a change saves requests. */
// The hand-back (issue 28) reads the tables and Alembic's heads once per run and passes them along
// (engine/handback.ts readGlanceSeen): the no-op sync's 4 requests and version's 1 above that are gone.
const LIMITS = {
  postgresql: { noop: 18, version: 6, fresh: 225 },
  // MySQL's fresh sync: 47, 48 and 50 add their columns and their index in two ALTERs each (issue 31: no table
  // rebuild under Galera's TOI), and every DDL statement is fenced by the lock: 27 more requests than one ALTER each.
  mysql: { noop: 24, version: 6, fresh: 490 },
};

const s = suite('round trips');

function counted(args: string[]): { count: number; statements: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-trips-'));
  try {
    const file = join(dir, 'trips.jsonl');
    const r = cli(args, { env: { GLANCE_DB_ROUND_TRIPS: file } });
    assert.is(r.code, 0, r.stderr);
    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    return { count: line.roundTrips, statements: line.statements };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const env of [postgresEnv, mysqlEnv] as DialectEnv[]) {
  const d = env.dialect as 'postgresql' | 'mysql';
  if (!env.available()) continue;
  s(`${d}: fresh sync, no-op sync and version stay within their round trips`, () =>
    withDb(env, async (db) => {
      const fresh = counted(['sync', '--url', db.url]);
      const noop = counted(['sync', '--url', db.url]);
      const version = counted(['version', '--url', db.url]);
      const show = (x: { count: number; statements: string[] }) => `${x.count}:\n${x.statements.join('\n')}`;
      // Counted for real: every statement is listed, the history read among them.
      for (const x of [fresh, noop, version]) {
        assert.is(x.statements.length <= x.count && x.statements.length > 0, true, show(x));
        assert.ok(
          x.statements.some((t) => t.startsWith('SELECT * FROM glance_db_version')),
          show(x),
        );
      }
      assert.ok(
        fresh.statements.some((t) => /^CREATE TABLE `?images`? /.test(t)),
        show(fresh),
      );
      assert.ok(noop.count <= LIMITS[d].noop, `no-op sync: ${show(noop)}`);
      assert.ok(version.count <= LIMITS[d].version, `version: ${show(version)}`);
      assert.ok(fresh.count <= LIMITS[d].fresh, `fresh sync: ${fresh.count}`);
      // The history is read once before the schema check and once after it (a concurrent run may commit between), no more.
      assert.ok(
        noop.statements.filter((t) => t.startsWith('SELECT * FROM glance_db_version')).length <=
          (d === 'mysql' ? 3 : 2),
        show(noop),
      );
      // A no-op sync changes nothing: no DDL, no write to the version table.
      assert.not.ok(
        noop.statements.some((t) => /^(CREATE|ALTER|UPDATE glance_db_version|INSERT INTO glance_db_version )/.test(t)),
        show(noop),
      );
      if (d === 'postgresql') assert.not.ok(noop.statements.includes('DISCARD ALL'), 'no reset after every query');
    }),
  );
}

s.run();
