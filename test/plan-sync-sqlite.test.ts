// Issue 29: sync applies the plan that `plan` and `sync --dry-run` list (app/plan.ts syncPlan), so what they show is
// what sync does. For several starting states, the steps plan and --dry-run list are the steps sync then records in
// its version table: a whole version as a new row, a rolling step as the phase its row's phase record gains.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, openSqlite, range, removeProject, runCli, sqliteRows, LATEST, VERSIONS } from './helpers.js';

interface Row {
  version: number;
  status: string;
  phases: string | null;
}

/** Steps as one list of words: "47" for a whole version, "45 contract" for a rolling step. */
interface Listed {
  versions: { version: number }[];
  rolling?: { steps: { version: number; phase: string }[] };
}
const stepsOf = (p: Listed) => [
  ...(p.rolling?.steps ?? []).map((s) => `${s.version} ${s.phase}`),
  ...p.versions.map((v) => `${v.version}`),
];

async function versionRows(db: string): Promise<Row[]> {
  if (!existsSync(db)) return [];
  const tables = await sqliteRows(db, "SELECT name FROM sqlite_master WHERE name = 'glance_db_version'");
  if (tables.length === 0) return [];
  return (await sqliteRows(db, 'SELECT version, status, phases FROM glance_db_version ORDER BY version')) as never;
}

/** What sync recorded: rows it added (a whole version, or its phases), and phases it added to rows already there. */
function recorded(before: Row[], after: Row[]): string[] {
  const phasesOf = (r: Row | undefined) => Object.keys(JSON.parse(r?.phases ?? '{}') as object);
  const out: { order: number; step: string }[] = [];
  const order = ['expand', 'migrate', 'contract'];
  for (const r of after) {
    const was = before.find((b) => b.version === r.version);
    if (r.phases === null) {
      if (!was) out.push({ order: 3, step: `${r.version}` });
      continue;
    }
    for (const p of phasesOf(r).filter((p) => !phasesOf(was).includes(p)))
      out.push({ order: order.indexOf(p), step: `${r.version} ${p}` });
  }
  // The plan's order: the rolling steps phase by phase, each in version order, then the whole versions.
  return out.sort((a, b) => a.order - b.order || parseInt(a.step) - parseInt(b.step)).map((x) => x.step);
}

const STATES: { name: string; setup: string[][]; expect: string[] }[] = [
  { name: 'a fresh database', setup: [], expect: VERSIONS.map(String) },
  { name: 'a database at 44', setup: [['sync', '44']], expect: range(45, LATEST).map(String) },
  {
    name: 'a rolling upgrade from 44 after its expand phase (the phases of 45, 46 and 49)',
    setup: [['sync', '44'], ['expand']],
    expect: ['45 migrate', '49 migrate', '45 contract', '46 contract'],
  },
  {
    name: 'a rolling upgrade from 44 after its migrate phase (the contracts of 45 and 46)',
    setup: [['sync', '44'], ['expand'], ['migrate']],
    expect: ['45 contract', '46 contract'],
  },
  { name: 'an older version, schema without drift', setup: [['sync', '46']], expect: range(47, LATEST).map(String) },
];

for (const s of STATES) {
  test(`${s.name}: plan and sync --dry-run list the steps sync then records in its version table`, async () => {
    const dir = makeProject();
    const db = join(dir, 'glance.sqlite');
    try {
      for (const args of s.setup) {
        const r = await runCli(args, { cwd: dir });
        assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      const plan = await runCli(['plan', '--json'], { cwd: dir });
      assert.is(plan.code, 0, plan.stderr);
      const dry = await runCli(['sync', '--dry-run', '--json'], { cwd: dir });
      assert.is(dry.code, 0, dry.stderr);
      const listed = stepsOf(JSON.parse(plan.stdout) as Listed);
      assert.equal(listed, s.expect);
      assert.equal(stepsOf(JSON.parse(dry.stdout) as Listed), listed);
      const before = await versionRows(db);
      const sync = await runCli(['sync', '--json'], { cwd: dir });
      assert.is(sync.code, 0, sync.stderr);
      assert.equal(recorded(before, await versionRows(db)), listed);
      // What sync reports it ran is the same list, in the same order.
      const out = JSON.parse(sync.stdout) as {
        applied: { version: number }[];
        /** Absent when no rolling step ran. */
        phases?: { version: number; phase: string }[];
      };
      const phases = out.phases ?? [];
      const rolled = phases.map((p) => `${p.version} ${p.phase}`);
      const whole = out.applied.map((a) => `${a.version}`).filter((v) => !phases.some((p) => `${p.version}` === v));
      assert.equal([...rolled, ...whole], listed);
      // At the newest version, nothing left to plan.
      assert.is((await runCli(['check', String(LATEST)], { cwd: dir })).code, 0);
      const again = await runCli(['plan', '--json'], { cwd: dir });
      assert.equal(stepsOf(JSON.parse(again.stdout) as Listed), []);
    } finally {
      removeProject(dir);
    }
  });
}

test("a database with Glance's legacy migrate_version: sync --dry-run lists the bookkeeping sync runs, as plan does", async () => {
  const dir = makeProject();
  const db = join(dir, 'glance.sqlite');
  try {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    // A database glance-manage built before Alembic keeps sqlalchemy-migrate's table; sync moves it on too.
    const sqlite = await openSqlite(db);
    sqlite.run(
      'CREATE TABLE migrate_version (repository_id VARCHAR(250) PRIMARY KEY, repository_path TEXT, version INTEGER)',
    );
    sqlite.run("INSERT INTO migrate_version VALUES ('Glance Migrations', '/glance', 44)");
    writeFileSync(db, sqlite.export());
    sqlite.close();
    const plan = await runCli(['plan', '45'], { cwd: dir });
    assert.is(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, 'UPDATE migrate_version SET version = 45;');
    // --dry-run planned from check's version without looking at the tables: it left that statement out.
    const dry = await runCli(['sync', '45', '--dry-run'], { cwd: dir });
    assert.is(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, 'UPDATE migrate_version SET version = 45;');
    const bookkeeping = (out: string) =>
      (JSON.parse(out) as { versions: { bookkeeping: string[] }[] }).versions.map((v) => v.bookkeeping);
    const dryJson = await runCli(['sync', '45', '--dry-run', '--json'], { cwd: dir });
    assert.equal(
      bookkeeping(dryJson.stdout),
      bookkeeping((await runCli(['plan', '45', '--json'], { cwd: dir })).stdout),
    );
    assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
    assert.equal(await sqliteRows(db, 'SELECT version FROM migrate_version'), [{ version: 45 }]);
  } finally {
    removeProject(dir);
  }
});

test('a data-only version (49) an adopted rolling upgrade skipped (no gap): plan and sync --dry-run list it, as sync runs it', async () => {
  const dir = makeProject();
  const db = join(dir, 'glance.sqlite');
  try {
    assert.is((await runCli(['sync', `${LATEST}`], { cwd: dir })).code, 0);
    // The one hole history checks allow (core/history.ts historyGaps): 49 (a migrate step alone) without a row,
    // every row above it adopted, and Glance's bookkeeping still at 48.
    const sqlite = await openSqlite(db);
    sqlite.run("UPDATE glance_db_version SET kind = 'adopted' WHERE version > 49");
    sqlite.run('DELETE FROM glance_db_version WHERE version = 49');
    sqlite.run("UPDATE alembic_version SET version_num = 'rocky_contract02'");
    writeFileSync(db, sqlite.export());
    sqlite.close();
    const versions = (out: string) =>
      (JSON.parse(out) as { versions: { version: number }[] }).versions.map((v) => v.version);
    const plan = await runCli(['plan', `${LATEST}`, '--json'], { cwd: dir });
    assert.is(plan.code, 0, plan.stderr);
    // plan listed the versions above the recorded level (none): not the one sync runs.
    assert.equal(versions(plan.stdout), [49]);
    const dry = await runCli(['sync', `${LATEST}`, '--dry-run', '--json'], { cwd: dir });
    assert.is(dry.code, 0, dry.stderr);
    assert.equal(versions(dry.stdout), [49]);
    const sync = await runCli(['sync', `${LATEST}`, '--json'], { cwd: dir });
    assert.is(sync.code, 0, sync.stderr);
    assert.equal(
      (JSON.parse(sync.stdout) as { applied: { version: number }[] }).applied.map((a) => a.version),
      [49],
    );
    assert.equal(await sqliteRows(db, 'SELECT kind FROM glance_db_version WHERE version = 49'), [{ kind: 'applied' }]);
  } finally {
    removeProject(dir);
  }
});

test.run();
