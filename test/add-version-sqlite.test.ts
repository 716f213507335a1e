// "Adding a version" (docs/contributing/adding-a-version.md), done in a copy of the project: version
// NEXT (the newest + 1) gets exactly the checklist's files (three SQL files named NNN_name.sql, a manifest
// entry with rolling:, the lock by lint --update, the expected schema by glance-db snapshot) and nothing
// else; the engine then takes a database to it on SQLite: sync, check, verify, plan, the rolling phases.
// What the checklist adds outside the project copy (Glance's revision, the reference dump) is checked by
// test/versions.test.ts; scripts/trial-version.mjs runs the whole trial on a copy of the repository.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { LATEST, makeProject, NEXT, PREVIOUS, removeProject, ROOT, runCli, VERSIONS } from './helpers.js';

const NAME = 'add_trial_column';
/** A column no real version adds (scripts/trial-version.mjs adds glance_db_trial as the next real one). */
const COL = `trial_v${NEXT}`;
const file = (d: string) => `sql/${d}/${String(NEXT).padStart(3, '0')}_${NAME}.sql`;
const COLUMN: Record<string, string> = {
  sqlite: 'VARCHAR(16)',
  postgresql: 'character varying(16)',
  mysql: 'varchar(16) DEFAULT NULL',
};
const sql = (d: string) => `-- Version ${NEXT}: ${NAME}\n\nALTER TABLE images ADD COLUMN ${COL} ${COLUMN[d]};\n`;
const entry = `
  - version: ${NEXT}
    name: ${NAME}
    description: images.trial_vN varchar(16), nullable (a version added by a test, per the checklist).
    files:
      sqlite: ${file('sqlite')}
      postgresql: ${file('postgresql')}
      mysql: ${file('mysql')}
    rolling: expand
`;

/** A project copy with the checklist's steps 1 and 2 done: the SQL files and the manifest entry. */
const project = () =>
  makeProject({
    'glance-db.yaml': readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8') + entry,
    ...Object.fromEntries(Object.keys(COLUMN).map((d) => [file(d), sql(d)])),
  });

const model = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as SchemaModel;

test(`a version added by the checklist alone (${NEXT}, one column): lint --update, snapshot, then sync, check, verify, plan and the rolling phases reach it on SQLite`, async () => {
  const dir = project();
  try {
    const run = (args: string[]) => runCli(args, { cwd: dir });
    // 3. The lock.
    const lint = await run(['lint', '--update']);
    assert.is(lint.code, 0, lint.stderr);
    assert.match(lint.stdout, `recorded ${NEXT} sqlite, ${NEXT} postgresql, ${NEXT} mysql in sql/checksums.lock`);
    assert.match(
      readFileSync(join(dir, 'sql', 'checksums.lock'), 'utf8'),
      new RegExp(`^${String(NEXT).padStart(3, '0')} sqlite ${file('sqlite')} sha256-lf:`, 'm'),
    );
    // 5. The expected schema (what npm run snapshots writes for every version): the newest's plus the column.
    const snap = await run(['snapshot', String(NEXT)]);
    assert.is(snap.code, 0, snap.stderr);
    const expected = join(dir, 'schema', 'expected', 'sqlite', `v${NEXT}.json`);
    assert.ok(existsSync(expected));
    const added = diffSchemas(model(expected), model(join(ROOT, 'schema', 'expected', 'sqlite', `v${LATEST}.json`)));
    assert.is(added.length, 1, added.join('\n'));
    assert.match(added[0], new RegExp(`^images: missing column ${COL}\\b`));
    // Only the server dialects' expected schemas are left (npm run snapshots makes them with the servers).
    const relint = await run(['lint']);
    assert.is(relint.code, 0, relint.stderr);
    assert.match(relint.stdout, `no expected schema for version ${NEXT} (postgresql, mysql)`);

    // A fresh database: every version, the new one last.
    const sync = await run(['sync']);
    assert.is(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, `applied ${NEXT} ${NAME}`);
    assert.match(sync.stdout, `database is at version ${NEXT}`);
    assert.is((await run(['version'])).stdout, `${NEXT}\n`);
    assert.equal([(await run(['check'])).code, (await run(['check'])).stdout], [0, `current: at version ${NEXT}\n`]);
    assert.equal(
      [(await run(['verify'])).code, (await run(['verify'])).stdout],
      [0, `schema matches version ${NEXT}\n`],
    );
    const history = JSON.parse((await run(['history', '--json'])).stdout) as { versions: { version: number }[] };
    assert.equal(
      history.versions.map((v) => v.version),
      [...VERSIONS, NEXT],
    );

    // A database at the newest shipped version: plan lists the new one alone; the rolling phases bring it in.
    const at = `sqlite:${join(dir, 'at-latest.sqlite')}`;
    assert.is((await run(['sync', String(LATEST), '--url', at])).code, 0);
    const plan = await run(['plan', '--url', at]);
    assert.is(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, `from ${LATEST} to version ${NEXT}; 1 version(s)`);
    assert.match(plan.stdout, `-- Version ${NEXT} ${NAME}`);
    assert.match(plan.stdout, `ALTER TABLE images ADD COLUMN ${COL} VARCHAR(16);`);
    for (const phase of ['expand', 'migrate', 'contract']) {
      const r = await run([phase, '--url', at]);
      assert.is(r.code, 0, `${phase}: ${r.stdout}${r.stderr}`);
    }
    assert.is((await run(['version', '--url', at])).stdout, `${NEXT}\n`);
    assert.is((await run(['verify', '--url', at])).code, 0);
    assert.is((await run(['check', '--url', at])).code, 0);
    // And one a version behind, by sync.
    const behind = `sqlite:${join(dir, 'behind.sqlite')}`;
    assert.is((await run(['sync', String(PREVIOUS), '--url', behind])).code, 0);
    const up = await run(['sync', '--url', behind]);
    assert.is(up.code, 0, up.stderr);
    assert.match(up.stdout, `database is at version ${NEXT}`);
    assert.is((await run(['check', '--url', behind])).code, 0);
  } finally {
    removeProject(dir);
  }
});

test.run();
