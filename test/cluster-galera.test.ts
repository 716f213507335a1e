// glance-db on a real three-node MariaDB Galera cluster (scripts/galera.sh):
// concurrent runs spread over the nodes, a node killed while it runs a
// version, and the pre-flight checks that refuse a node before anything
// changes. Skips loudly without GLANCE_DB_TEST_GALERA_URLS; fails instead
// under GLANCE_DB_REQUIRE_CLUSTER=1.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { loadSnapshot } from '../src/core/introspect/snapshot.js';
import {
  createGaleraDatabase,
  dbUrl,
  dropGaleraDatabase,
  GALERA_URLS,
  galeraAvailable,
  nodesDiffer,
  nodeSql,
  nodeState,
} from './cluster.js';
import { cli, cliAsync, extraVersion, LATEST, makeProject, removeProject, ROOT, VERSIONS } from './helpers.js';

const s = suite('galera cluster');
const IGNORE = { ignoreTables: ['alembic_version', 'glance_db_version', 'glance_db_version_lock'] };
const galera = (...args: string[]) => {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'galera.sh'), ...args], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`scripts/galera.sh ${args.join(' ')} failed: ${r.stderr}`);
};
const status = (node: number, name: string) => nodeSql(node, `SHOW STATUS LIKE '${name}'`).split('\t')[1]?.trim();
const variable = (node: number, name: string) =>
  nodeSql(node, `SHOW GLOBAL VARIABLES LIKE '${name}'`).split('\t')[1]?.trim();
const tablesOn = (node: number, name: string) =>
  nodeSql(node, `SET SESSION wsrep_sync_wait = 1; SHOW TABLES FROM ${name}`).split('\n').filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, seconds = 120): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    try {
      if (ok()) return;
    } catch {
      // a node that is rejoining may refuse queries for a moment
    }
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

const allSynced = () =>
  [0, 1, 2].every(
    (n) => status(n, 'wsrep_local_state_comment') === 'Synced' && status(n, 'wsrep_cluster_size') === '3',
  );

async function withGaleraDb(fn: (name: string) => Promise<void>): Promise<void> {
  const name = createGaleraDatabase();
  try {
    await fn(name);
  } finally {
    dropGaleraDatabase(name);
  }
}

/** Sets a global variable on one node for the length of fn, then puts the old value back. */
async function withGlobal(node: number, name: string, value: string, fn: () => Promise<void>): Promise<void> {
  const old = variable(node, name);
  nodeSql(node, `SET GLOBAL ${name} = '${value}'`);
  try {
    await fn();
  } finally {
    nodeSql(node, `SET GLOBAL ${name} = '${old}'`);
    await waitFor('every node Synced again', allSynced);
  }
}

if (galeraAvailable()) {
  s(
    'eight syncs at once spread over the three nodes: one migrates, each version recorded once, all exit 0, same schema everywhere',
    () =>
      withGaleraDb(async (name) => {
        const runs = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            cliAsync(['sync', '--url', dbUrl(GALERA_URLS[i % 3], name), '--lock-wait', '180']),
          ),
        );
        for (const r of runs) assert.is(r.code, 0, r.stderr);
        const migrated = runs.filter((r) => /applied \d+ /.test(r.stdout));
        assert.is(migrated.length, 1, runs.map((r) => r.stdout).join('\n'));
        assert.is((migrated[0].stdout.match(/applied \d+ /g) ?? []).length, VERSIONS.length);
        const rows = nodeSql(
          1,
          `SET SESSION wsrep_sync_wait = 1; SELECT version, status, count(*) FROM ${name}.glance_db_version GROUP BY version, status ORDER BY version`,
        )
          .trim()
          .split('\n');
        assert.equal(
          rows,
          VERSIONS.map((v) => `${v}\tcomplete\t1`),
        );
        assert.equal(await nodesDiffer(name), []);
        assert.equal(
          diffSchemas(loadSnapshot('mysql', LATEST), (await nodeState(dbUrl(GALERA_URLS[2], name))).model, IGNORE),
          [],
        );
      }),
  );

  s(
    'a node killed (kill -9) while it runs version 45: clear message, rerun on another node resumes, nothing lost, nodes agree after it rejoins',
    () =>
      withGaleraDb(async (name) => {
        const [n1, , n3] = GALERA_URLS.map((u) => dbUrl(u, name));
        assert.is(cli(['sync', '44', '--url', n1]).code, 0);
        const populate = spawnSync(
          process.execPath,
          [join(ROOT, 'bench', 'populate.mjs'), 'mysql', process.env.GLANCE_DB_GALERA_KILL_IMAGES ?? '60000'],
          { encoding: 'utf8', maxBuffer: 64 << 20 },
        );
        assert.is(populate.status, 0, populate.stderr);
        nodeSql(0, '', name, populate.stdout);
        const q = (sql: string, node = 0) => nodeSql(node, `SET SESSION wsrep_sync_wait = 1; ${sql}`, name).trim();
        const tables = ['images', 'image_members', 'image_locations', 'image_properties', 'image_tags'];
        const counts = (node: number) => tables.map((t) => q(`SELECT count(*) FROM ${t}`, node));
        const before = counts(0);
        // The visibility step 45 must give every image, computed from the v44 data.
        const expected = q(
          `SELECT CASE WHEN is_public = 1 THEN 'public' WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.deleted = 0) THEN 'shared' ELSE 'private' END AS v, count(*) FROM images GROUP BY v ORDER BY v`,
        );

        let node3Down = false;
        try {
          const run = cliAsync(['sync', '--url', n3, '--lock-wait', '60']);
          await waitFor(
            'version 45 to start on node 3',
            () => q('SELECT count(*) FROM glance_db_version WHERE version = 45', 2) === '1',
            300,
          );
          galera('kill', '3');
          node3Down = true;
          const killed = await run;
          const state = q(
            'SELECT version, status, statements_applied, error FROM glance_db_version WHERE version >= 45 ORDER BY version',
          );
          console.log(
            `    killed node 3 during: ${state.replace(/\n/g, ' | ')}; glance-db said (exit ${killed.code}): ${killed.stderr.trim().split('\n').slice(-2).join(' ')}`,
          );
          assert.is(killed.code, 18, `exit ${killed.code}: ${killed.stderr}`);
          assert.match(killed.stderr, /^error: The connection to MySQL database "[^"]+" at [^ ]+ was lost mid-run/m);
          assert.match(killed.stderr, /run glance-db sync again \(on Galera: against any other Synced node\)/);
          assert.not.match(killed.stderr, /\n\s+at /);

          const rerun = cli(['sync', '--url', n1, '--lock-wait', '180']);
          assert.is(rerun.code, 0, rerun.stderr);
          assert.is(cli(['version', '--url', n1]).stdout, `${LATEST}\n`);
          assert.equal(counts(0), before);
          assert.is(q('SELECT visibility, count(*) FROM images GROUP BY visibility ORDER BY visibility'), expected);
          assert.equal(diffSchemas(loadSnapshot('mysql', LATEST), (await nodeState(n1)).model, IGNORE), []);

          galera('start-node', '3');
          node3Down = false;
          await waitFor('node 3 to rejoin', allSynced, 300);
          assert.equal(await nodesDiffer(name), []);
          assert.equal(counts(2), before);
        } finally {
          // Whatever failed, the other tests need three nodes.
          if (node3Down) galera('start-node', '3');
        }
      }),
  );

  s(
    'pre-flight: wsrep_OSU_method = RSU on the node is refused with exit 32 before anything changes; TOI then works',
    () =>
      withGaleraDb(async (name) => {
        const url = dbUrl(GALERA_URLS[2], name);
        await withGlobal(2, 'wsrep_OSU_method', 'RSU', async () => {
          const r = cli(['sync', '--url', url]);
          assert.is(r.code, 32, r.stderr);
          assert.match(r.stderr, /error: The Galera node "node3" has wsrep_OSU_method = RSU/);
          assert.match(r.stderr, /hint: .*SET GLOBAL wsrep_OSU_method = 'TOI'/);
          assert.equal(tablesOn(0, name), []);
          assert.equal(tablesOn(2, name), []);
        });
        const r = cli(['sync', '--url', url]);
        assert.is(r.code, 0, r.stderr);
        assert.equal(await nodesDiffer(name), []);
      }),
  );

  s('pre-flight: wsrep_desync = ON on the node is refused with exit 32 before anything changes', () =>
    withGaleraDb(async (name) => {
      assert.is(cli(['sync', '47', '--url', dbUrl(GALERA_URLS[0], name)]).code, 0);
      await withGlobal(2, 'wsrep_desync', 'ON', async () => {
        const r = cli(['sync', '--url', dbUrl(GALERA_URLS[2], name), '--json']);
        assert.is(r.code, 32, r.stderr);
        const j = JSON.parse(r.stdout);
        assert.equal([j.error.code, j.error.exitCode, j.error.check], ['PREFLIGHT', 32, 'wsrep_desync']);
        assert.is(cli(['version', '--url', dbUrl(GALERA_URLS[0], name)]).stdout, '47\n');
      });
    }),
  );

  s('pre-flight: a node outside the Primary component (isolated) is refused with exit 32', () =>
    withGaleraDb(async (name) => {
      const url = dbUrl(GALERA_URLS[2], name);
      nodeSql(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
      try {
        await waitFor('node 3 to leave the Primary component', () => status(2, 'wsrep_cluster_status') !== 'Primary');
        const r = cli(['sync', '--url', url]);
        assert.is(r.code, 32, r.stderr);
        assert.match(r.stderr, /not in the Primary component \(wsrep_cluster_status = non-Primary/);
      } finally {
        nodeSql(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
        await waitFor('node 3 to rejoin', allSynced, 300);
      }
      assert.equal(tablesOn(0, name), []);
    }),
  );

  s(
    'pre-flight: a pending trigger with log_bin_trust_function_creators OFF and no SUPER is refused with exit 32, naming the setting',
    () =>
      withGaleraDb(async (name) => {
        const trigger = `CREATE TRIGGER images_touch BEFORE UPDATE ON images FOR EACH ROW SET NEW.updated_at = UTC_TIMESTAMP();\n`;
        const dir = makeProject(extraVersion(LATEST + 1, 'touch_trigger', trigger));
        const user = `glancedb_nosuper_${name.slice(-6)}`;
        nodeSql(0, `CREATE USER ${user}@'127.0.0.1'; GRANT ALL PRIVILEGES ON ${name}.* TO ${user}@'127.0.0.1'`);
        try {
          assert.is(cli(['sync', String(LATEST), '--url', dbUrl(GALERA_URLS[2], name)], { cwd: dir }).code, 0);
          const url = dbUrl(GALERA_URLS[2], name).replace('//root@', `//${user}@`);
          assert.is(variable(2, 'log_bin_trust_function_creators'), 'OFF');
          const r = cli(['sync', '--url', url], { cwd: dir });
          assert.is(r.code, 32, r.stderr);
          assert.match(r.stderr, /creates a trigger/);
          assert.match(r.stderr, /hint: Run SET GLOBAL log_bin_trust_function_creators = ON/);
          assert.is(cli(['version', '--url', url], { cwd: dir }).stdout, `${LATEST}\n`);
          assert.is(
            nodeSql(0, `SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${name}'`).trim(),
            '0',
          );
          await withGlobal(2, 'log_bin_trust_function_creators', 'ON', async () => {
            const ok = cli(['sync', '--url', url], { cwd: dir });
            assert.is(ok.code, 0, ok.stderr);
          });
          assert.is(
            nodeSql(
              0,
              `SET SESSION wsrep_sync_wait = 1; SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${name}'`,
            ).trim(),
            '1',
          );
        } finally {
          nodeSql(0, `DROP USER IF EXISTS ${user}@'127.0.0.1'`);
          removeProject(dir);
        }
      }),
  );
}

s.run();
