// purge and purge-images on a populated database, the same on every dialect:
// counts per table, foreign keys intact, nothing younger than N days or not
// flagged deleted touched, and a run killed half way finished by the next.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { withDb, withDbAtLatest, type DialectEnv, type TestDb } from './dialects.js';
import { BIN, cli, runCli } from './helpers.js';
import { glanceBuilt } from './takeover.js';

const DAY = 86_400_000;
const ts = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 19).replace('T', ' ');
const lit = (v: string | number | boolean | null) =>
  v === null ? 'NULL' : typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : typeof v === 'number' ? String(v) : `'${v}'`;

/** Builds INSERTs; `deleted` null means a live row. */
export class Population {
  private rows = new Map<string, string[]>();
  private nextId = 1;
  private cols: Record<string, string> = {
    images: 'id, name, status, created_at, deleted, deleted_at, min_disk, min_ram, protected, visibility, os_hidden',
    image_properties: 'id, image_id, name, value, created_at, deleted, deleted_at',
    image_tags: 'id, image_id, value, created_at, deleted, deleted_at',
    image_locations: 'id, image_id, value, created_at, deleted, deleted_at, status',
    image_members: 'id, image_id, member, can_share, created_at, deleted, deleted_at, status',
    tasks: 'id, type, status, owner, created_at, deleted, deleted_at',
    task_info: 'task_id, input, result, message',
  };

  private add(table: string, values: (string | number | boolean | null)[]): void {
    if (!this.rows.has(table)) this.rows.set(table, []);
    this.rows.get(table)!.push(`(${values.map(lit).join(', ')})`);
  }

  private del(daysAgo: number | null, flag = daysAgo !== null): [boolean, string | null] {
    return [flag, daysAgo === null ? null : ts(daysAgo)];
  }

  image(id: string, deletedDaysAgo: number | null): void {
    this.add('images', [
      id,
      id,
      deletedDaysAgo === null ? 'active' : 'deleted',
      ts(400),
      ...this.del(deletedDaysAgo),
      0,
      0,
      false,
      'shared',
      false,
    ]);
  }

  child(
    table: 'image_properties' | 'image_tags' | 'image_locations' | 'image_members',
    imageId: string,
    deletedDaysAgo: number | null,
    flag?: boolean,
  ): void {
    const id = this.nextId++;
    const d = this.del(deletedDaysAgo, flag);
    if (table === 'image_properties') this.add(table, [id, imageId, `p${id}`, 'v', ts(400), ...d]);
    else if (table === 'image_tags') this.add(table, [id, imageId, `t${id}`, ts(400), ...d]);
    else if (table === 'image_locations') this.add(table, [id, imageId, `file:///l${id}`, ts(400), ...d, 'active']);
    else this.add(table, [id, imageId, `m${id}`, false, ts(400), ...d, 'accepted']);
  }

  task(id: string, deletedDaysAgo: number | null, withInfo: boolean): void {
    this.add('tasks', [id, 'import', 'success', 'owner', ts(400), ...this.del(deletedDaysAgo)]);
    if (withInfo) this.add('task_info', [id, '{}', '{}', '']);
  }

  sql(): string {
    const order = [
      'images',
      'image_properties',
      'image_tags',
      'image_locations',
      'image_members',
      'tasks',
      'task_info',
    ];
    const out: string[] = [];
    for (const t of order) {
      const rows = this.rows.get(t) ?? [];
      for (let i = 0; i < rows.length; i += 500)
        out.push(`INSERT INTO ${t} (${this.cols[t]}) VALUES ${rows.slice(i, i + 500).join(', ')};`);
    }
    return out.join('\n');
  }
}

const CHILDREN = ['image_properties', 'image_tags', 'image_locations', 'image_members'] as const;

/** The classes of rows the suite checks; the counts purge --age-in-days 30 must report. */
function population(): { sql: string; purged: Record<string, number> } {
  const p = new Population();
  const pad = (n: number) => String(n).padStart(2, '0');
  // A: deleted 40 days ago with every child: all purged; the images by purge-images.
  for (let i = 1; i <= 12; i++) {
    p.image(`a-${pad(i)}`, 40);
    p.child('image_properties', `a-${pad(i)}`, 40);
    p.child('image_properties', `a-${pad(i)}`, 40);
    for (const c of CHILDREN.slice(1)) p.child(c, `a-${pad(i)}`, 40);
  }
  // B: deleted 10 days ago: younger than 30 days, kept.
  for (let i = 1; i <= 5; i++) {
    p.image(`b-${pad(i)}`, 10);
    p.child('image_properties', `b-${pad(i)}`, 10);
  }
  // C: live images, one live property, one deleted 40 days ago (purged), one with a deleted_at but not flagged deleted (kept).
  for (let i = 1; i <= 5; i++) {
    p.image(`c-${pad(i)}`, null);
    p.child('image_properties', `c-${pad(i)}`, null);
    p.child('image_properties', `c-${pad(i)}`, 40);
    p.child('image_tags', `c-${pad(i)}`, 40, false);
  }
  // D: deleted 40 days ago, but a member deleted only 5 days ago still refers to it: purge-images keeps it.
  for (let i = 1; i <= 3; i++) {
    p.image(`d-${pad(i)}`, 40);
    p.child('image_members', `d-${pad(i)}`, 5);
  }
  for (let i = 1; i <= 8; i++) p.task(`t1-${pad(i)}`, 40, true); // purged with their task_info
  for (let i = 1; i <= 3; i++) p.task(`t2-${pad(i)}`, 5, true); // too young
  for (let i = 1; i <= 3; i++) p.task(`t3-${pad(i)}`, null, true); // live
  for (let i = 1; i <= 2; i++) p.task(`t4-${pad(i)}`, 40, false); // purged, no task_info
  return {
    sql: p.sql(),
    purged: { task_info: 8, image_properties: 29, image_tags: 12, image_locations: 12, image_members: 12, tasks: 10 },
  };
}

const count = async (db: TestDb, sql: string) => Number((await db.rows(sql))[0].n);

/** Rows whose parent is gone: must stay 0 whatever purge did. */
async function orphans(db: TestDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of CHILDREN)
    out[c] = await count(
      db,
      `SELECT COUNT(*) AS n FROM ${c} x LEFT JOIN images i ON i.id = x.image_id WHERE i.id IS NULL`,
    );
  out.task_info = await count(
    db,
    'SELECT COUNT(*) AS n FROM task_info x LEFT JOIN tasks t ON t.id = x.task_id WHERE t.id IS NULL',
  );
  return out;
}

const NO_ORPHANS = { image_properties: 0, image_tags: 0, image_locations: 0, image_members: 0, task_info: 0 };

async function tableCounts(db: TestDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['images', ...CHILDREN, 'tasks', 'task_info'])
    out[t] = await count(db, `SELECT COUNT(*) AS n FROM ${t}`);
  return out;
}

export function purgeSuite(env: DialectEnv): void {
  const s = suite(`purge: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  // In process (runCli) for messages, exit codes and JSON; proc, a real process, where the exit code and the
  // stdout/stderr split are the contract.
  const run = (db: TestDb, args: string[]) => runCli([...args, '--url', db.url]);
  const proc = (db: TestDb, args: string[]) => cli([...args, '--url', db.url]);

  s(
    'purge deletes old soft-deleted rows in batches, children first, never images; purge-images then the images nothing refers to',
    () =>
      withDbAtLatest(env, async (db) => {
        const { sql, purged } = population();
        await db.exec(sql);
        const before = await tableCounts(db);

        const dry = await run(db, ['purge', '--dry-run', '--json']);
        assert.is(dry.code, 0, dry.stderr);
        const dj = JSON.parse(dry.stdout);
        assert.equal(
          Object.fromEntries(dj.tables.map((t: { table: string; rows: number }) => [t.table, t.rows])),
          purged,
        );
        assert.equal(await tableCounts(db), before, '--dry-run changes nothing');

        const r = proc(db, ['purge', '--age-in-days', '30', '--batch-size', '5']);
        assert.is(r.code, 0, r.stderr);
        assert.equal(
          dj.tables.map((t: { table: string }) => t.table),
          ['task_info', 'image_properties', 'image_tags', 'image_locations', 'image_members', 'tasks'],
          'children before parents',
        );
        assert.match(r.stderr, 'image_properties: batch 6, 4 row(s) deleted (29 so far)');
        for (const [t, n] of Object.entries(purged))
          assert.match(r.stdout, `${t}: ${n} row(s) deleted in ${Math.ceil(n / 5)} batch(es)`);
        const after = await tableCounts(db);
        for (const t of Object.keys(purged)) assert.is(after[t], before[t] - purged[t], t);
        assert.is(after.images, before.images, 'purge never touches images');
        assert.equal(await orphans(db), NO_ORPHANS);
        // Younger than 30 days, live, or not flagged deleted: all still there.
        assert.is(await count(db, "SELECT COUNT(*) AS n FROM image_properties WHERE image_id LIKE 'b-%'"), 5);
        assert.is(await count(db, "SELECT COUNT(*) AS n FROM image_properties WHERE image_id LIKE 'c-%'"), 5);
        assert.is(await count(db, "SELECT COUNT(*) AS n FROM image_tags WHERE image_id LIKE 'c-%'"), 5);
        assert.is(await count(db, "SELECT COUNT(*) AS n FROM image_members WHERE image_id LIKE 'd-%'"), 3);
        assert.is(await count(db, "SELECT COUNT(*) AS n FROM tasks WHERE id LIKE 't2-%' OR id LIKE 't3-%'"), 6);
        assert.is(await count(db, 'SELECT COUNT(*) AS n FROM task_info'), 6);

        const again = await run(db, [
          'db',
          'purge',
          '--age_in_days',
          '30',
          '--max_rows',
          '-1',
          '--batch-size',
          '5',
          '--json',
        ]);
        assert.is(again.code, 0, again.stderr);
        assert.is(JSON.parse(again.stdout).total, 0, 'a second run finds nothing');

        const imgDry = JSON.parse(
          (await run(db, ['purge-images', '--age-in-days', '30', '--dry-run', '--json'])).stdout,
        );
        assert.equal(imgDry.tables, [{ table: 'images', rows: 12, batches: 0, held: 3, heldForPurge: 0 }]);
        const img = await run(db, [
          'db',
          'purge_images_table',
          '--age_in_days',
          '30',
          '--max_rows',
          '-1',
          '--batch-size',
          '5',
        ]);
        assert.is(img.code, 0, img.stderr);
        assert.match(img.stdout, 'images: 12 row(s) deleted in 3 batch(es); 3 more kept');
        assert.is(await count(db, "SELECT COUNT(*) AS n FROM images WHERE id LIKE 'a-%'"), 0);
        assert.is(await count(db, 'SELECT COUNT(*) AS n FROM images'), before.images - 12);
        assert.equal(await orphans(db), NO_ORPHANS);
        // The default age of purge-images is 180 days: nothing that old here.
        assert.is(JSON.parse((await run(db, ['purge-images', '--json'])).stdout).total, 0);
      }),
  );

  s(
    'purge-images says what keeps each held image: old soft-deleted child rows purge removes, or live and recent ones it does not',
    () =>
      withDbAtLatest(env, async (db) => {
        const p = new Population();
        p.image('free', 40);
        // Held only by rows purge --age-in-days 30 removes.
        for (const id of ['old-1', 'old-2']) {
          p.image(id, 40);
          p.child('image_tags', id, 40);
          p.child('image_properties', id, 40);
        }
        // Held by a live property (and an old tag): purge leaves the live row, so the image stays.
        p.image('live', 40);
        p.child('image_properties', 'live', null);
        p.child('image_tags', 'live', 40);
        // Held by a member deleted 5 days ago: too young for purge --age-in-days 30.
        p.image('recent', 40);
        p.child('image_members', 'recent', 5);
        // Flagged deleted without a date: purge never takes it.
        p.image('undated', 40);
        p.child('image_locations', 'undated', null, true);
        await db.exec(p.sql());
        const dry = await run(db, ['purge-images', '--age-in-days', '30', '--dry-run', '--json']);
        assert.is(dry.code, 0, dry.stderr);
        assert.equal(JSON.parse(dry.stdout).tables, [
          { table: 'images', rows: 1, batches: 0, held: 5, heldForPurge: 2 },
        ]);
        const r = await run(db, ['purge-images', '--age-in-days', '30']);
        assert.is(r.code, 0, r.stderr);
        assert.match(
          r.stdout,
          'images: 1 row(s) deleted in 1 batch(es); 5 more kept: rows in image_properties, image_tags, image_locations or image_members still refer to them ' +
            "(2 only by rows soft-deleted more than 30 days ago, which glance-db purge --age-in-days 30 removes first; 3 by rows that are live or were deleted less than 30 days ago: not purge's to remove",
        );
        // What it says holds: purge frees exactly the two, the other three stay held.
        assert.is((await run(db, ['purge', '--age-in-days', '30'])).code, 0);
        const after = JSON.parse((await run(db, ['purge-images', '--age-in-days', '30', '--json'])).stdout);
        assert.equal(after.tables, [{ table: 'images', rows: 2, batches: 1, held: 3, heldForPurge: 0 }]);
        assert.equal(
          (await db.rows('SELECT id FROM images ORDER BY id')).map((x) => x.id),
          ['live', 'recent', 'undated'],
        );
      }),
  );

  s(
    'bookkeeping changed between two batches (another tool ran) stops the purge with exit 13; what was purged stays, the next run continues',
    () =>
      withDbAtLatest(env, async (db) => {
        const { sql, purged } = population();
        await db.exec(sql);
        // Stands in for glance-manage db expand (which takes no glance-db lock) running between two batches: the
        // first batch of image_properties changes alembic_version in its own transaction.
        const trigger = {
          sqlite:
            "CREATE TRIGGER gdb_moved AFTER DELETE ON image_properties BEGIN UPDATE alembic_version SET version_num = 'moved'; END;",
          postgresql:
            "CREATE FUNCTION gdb_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE alembic_version SET version_num = 'moved'; RETURN NULL; END $$; CREATE TRIGGER gdb_moved AFTER DELETE ON image_properties FOR EACH STATEMENT EXECUTE FUNCTION gdb_moved();",
          mysql:
            "CREATE TRIGGER gdb_moved AFTER DELETE ON image_properties FOR EACH ROW UPDATE alembic_version SET version_num = 'moved';",
        }[env.dialect];
        const heads = (await db.rows('SELECT version_num FROM alembic_version')).map((x) => String(x.version_num));
        assert.is(heads.length, 1);
        await db.exec(trigger);
        const r = await run(db, ['purge', '--age-in-days', '30', '--batch-size', '5']);
        assert.is(r.code, 13, r.stderr);
        assert.match(
          r.stderr,
          "purge stopped before batch 2 of image_properties: the database's version bookkeeping changed while it ran",
        );
        assert.match(
          r.stderr,
          'The 5 row(s) of image_properties deleted before, and the tables before it, stay purged',
        );
        assert.not.match(r.stderr, 'Nothing was changed');
        assert.is(
          await count(db, 'SELECT COUNT(*) AS n FROM task_info'),
          6,
          'task_info (the first table) purged whole',
        );
        assert.equal(await orphans(db), NO_ORPHANS);
        await db.exec(
          env.dialect === 'postgresql' ? 'DROP TRIGGER gdb_moved ON image_properties' : 'DROP TRIGGER gdb_moved',
        );
        // Put back as it was; the next run continues and ends where an uninterrupted one would.
        await db.exec(`UPDATE alembic_version SET version_num = '${heads[0]}'`);
        const again = await run(db, ['purge', '--age-in-days', '30', '--batch-size', '5', '--json']);
        assert.is(again.code, 0, again.stderr);
        const left = JSON.parse(again.stdout).tables.find((t: { table: string }) => t.table === 'image_properties');
        assert.is(left.rows, purged.image_properties - 5);
      }),
  );

  s('a purge killed half way leaves a consistent database, and the next run finishes the job', () =>
    withDbAtLatest(env, async (db) => {
      const p = new Population();
      for (let i = 0; i < 40; i++) {
        const id = `k-${String(i).padStart(3, '0')}`;
        p.image(id, 60);
        for (let j = 0; j < 10; j++) p.child('image_properties', id, 60);
        p.child('image_properties', id, 1);
      }
      await db.exec(p.sql());
      const killed = await new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'purge', '--batch-size', '1', '--url', db.url], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d) => {
          err += d;
          if (/batch 3,/.test(err)) child.kill('SIGKILL');
        });
        child.on('close', (code, signal) => resolve({ code, signal }));
      });
      assert.ok(killed.signal === 'SIGKILL' || killed.code === 0, JSON.stringify(killed));
      assert.equal(await orphans(db), NO_ORPHANS);
      assert.is(
        (await count(
          db,
          'SELECT COUNT(*) AS n FROM image_properties WHERE deleted_at IS NOT NULL AND image_id IN (SELECT id FROM images)',
        )) >= 40,
        true,
      );
      const r = await run(db, ['purge', '--batch-size', '50']);
      assert.is(r.code, 0, r.stderr);
      assert.is(
        await count(db, 'SELECT COUNT(*) AS n FROM image_properties'),
        40,
        'only the rows deleted a day ago are left',
      );
      assert.equal(await orphans(db), NO_ORPHANS);
    }),
  );

  s(
    'a batch the database refuses: exit 29 naming table and batch; that batch rolled back, the tables before it stay purged; the next run continues',
    () =>
      withDbAtLatest(env, async (db) => {
        const { sql, purged } = population();
        await db.exec(sql);
        const before = await tableCounts(db);
        await db.exec(
          {
            sqlite:
              "CREATE TRIGGER boom BEFORE DELETE ON image_tags BEGIN SELECT RAISE(ABORT, 'delete refused by test trigger'); END;",
            postgresql:
              "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'delete refused by test trigger'; END $$; CREATE TRIGGER boom BEFORE DELETE ON image_tags FOR EACH ROW EXECUTE FUNCTION boom();",
            mysql:
              "DELIMITER //\nCREATE TRIGGER boom BEFORE DELETE ON image_tags FOR EACH ROW BEGIN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'delete refused by test trigger'; END//\nDELIMITER ;",
          }[env.dialect],
        );
        const r = proc(db, ['purge', '--batch-size', '5']);
        assert.is(r.code, 29, r.stderr);
        assert.match(
          r.stderr,
          /error: Purging image_tags failed in batch 1 \([a-z]+\): .*delete refused by test trigger/,
        );
        assert.match(r.stderr, 'hint: Fix the cause and run the same command again');
        const mid = await tableCounts(db);
        assert.is(mid.task_info, before.task_info - purged.task_info);
        assert.is(mid.image_properties, before.image_properties - purged.image_properties);
        assert.is(mid.image_tags, before.image_tags, 'the refused batch rolled back');
        assert.is(mid.tasks, before.tasks, 'tables after the failure not touched');
        assert.equal(await orphans(db), NO_ORPHANS);
        await db.exec(env.dialect === 'postgresql' ? 'DROP TRIGGER boom ON image_tags;' : 'DROP TRIGGER boom;');
        const again = await run(db, ['purge', '--batch-size', '5', '--json']);
        assert.is(again.code, 0, again.stderr);
        const rows = Object.fromEntries(
          JSON.parse(again.stdout).tables.map((t: { table: string; rows: number }) => [t.table, t.rows]),
        );
        assert.equal(rows, { ...purged, task_info: 0, image_properties: 0 });
      }),
  );

  s(
    'bad --age-in-days or --batch-size: exit 2 and nothing changed; --batch-size -1 (one transaction per table) works',
    () =>
      withDbAtLatest(env, async (db) => {
        const { sql } = population();
        await db.exec(sql);
        const before = await tableCounts(db);
        for (const args of [
          ['--age-in-days', '-1'],
          ['--age-in-days', 'abc'],
          ['--age-in-days', '99999'],
          ['--batch-size', '0'],
          ['--batch-size', '2147483648'],
          ['--batch-size', '1.5'],
          ['--table-limit', '-5'],
        ]) {
          const r = await run(db, ['purge', ...args]);
          assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
          assert.match(
            r.stderr,
            /^error: --(age-in-days|batch-size|table-limit) [^\n]+\n(hint: [^\n]+\n)?$/,
            "one error paragraph, not oclif's wrapping",
          );
          assert.not.match(r.stderr, '    at ');
        }
        assert.equal(await tableCounts(db), before);
        const r = await run(db, ['purge', '--batch-size', '-1', '--json']);
        assert.is(r.code, 0, r.stderr);
        assert.is(JSON.parse(r.stdout).total, 83);
      }),
  );

  /** The tables and bookkeeping a data command must leave alone: every table's name, glance-db's version rows, alembic_version. */
  const bookkeeping = async (db: TestDb) => {
    const tables = Object.keys((await db.model()).tables).sort();
    const alembic = tables.includes('alembic_version')
      ? (await db.rows('SELECT version_num FROM alembic_version ORDER BY version_num')).map((r) =>
          String(r.version_num),
        )
      : null;
    const versions = tables.includes('glance_db_version')
      ? (await db.rows('SELECT version, status FROM glance_db_version ORDER BY version')).map(
          (r) => `${r.version}:${r.status}`,
        )
      : null;
    return { tables, alembic, versions, version: (await run(db, ['version'])).stdout };
  };

  for (const kind of ['sync 50 (zed)', 'glance-manage (zed_contract01)'] as const) {
    s(
      `issue 28: on a database at ${kind}, purge, purge-images and the glance-manage forms run without changing its version or bookkeeping; db purge --max_rows 2 deletes at most 2 rows per table per run, the oldest first`,
      () =>
        withDb(env, async (db) => {
          if (kind.startsWith('sync')) assert.is((await run(db, ['sync', '50'])).code, 0);
          else await glanceBuilt(db, 50, ['zed_contract01']);
          const { sql, purged } = population();
          await db.exec(sql);
          const before = await bookkeeping(db);
          assert.is(before.version, '50\n');
          assert.is(before.tables.includes('glance_db_version'), kind.startsWith('sync'));
          const counts = await tableCounts(db);
          // The oldest first: of the 8 + 2 old tasks, two deleted 41 days ago go before the rest.
          await db.exec("UPDATE tasks SET deleted_at = '2000-01-01 00:00:00' WHERE id IN ('t1-07', 't4-02')");
          const dry = await run(db, ['db', 'purge', '--max_rows', '2', '--dry-run', '--json']);
          assert.is(dry.code, 0, dry.stderr);
          assert.equal(
            Object.fromEntries(
              JSON.parse(dry.stdout).tables.map((t: { table: string; rows: number }) => [t.table, t.rows]),
            ),
            Object.fromEntries(Object.keys(purged).map((t) => [t, 2])),
          );
          const r = await run(db, ['db', 'purge', '--age_in_days', '30', '--max_rows', '2', '--json']);
          assert.is(r.code, 0, r.stderr);
          const j = JSON.parse(r.stdout);
          assert.equal([j.tableLimit, j.batchSize], [2, 100]);
          for (const t of j.tables) assert.equal([t.table, t.rows, t.limitReached], [t.table, 2, true]);
          let now = await tableCounts(db);
          for (const t of Object.keys(purged)) assert.is(now[t], counts[t] - 2, t);
          // task_info of the oldest task (t1-07) went first; t4-02 has none, so tasks took t1-07 and t4-02.
          assert.is(await count(db, "SELECT COUNT(*) AS n FROM tasks WHERE id IN ('t1-07', 't4-02')"), 0);
          assert.equal(await orphans(db), NO_ORPHANS);
          // A second run takes the next 2 of each; -1 (no limit) the rest.
          assert.is((await run(db, ['db', 'purge', '--max_rows', '2'])).code, 0);
          now = await tableCounts(db);
          for (const t of Object.keys(purged)) assert.is(now[t], counts[t] - 4, t);
          assert.is((await run(db, ['db', 'purge', '--max_rows', '-1'])).code, 0);
          now = await tableCounts(db);
          for (const t of Object.keys(purged)) assert.is(now[t], counts[t] - purged[t], t);
          assert.match((await run(db, ['db', 'purge', '--max_rows', '2'])).stdout, '0 row(s) deleted');
          // --max_rows 0 deletes nothing; -1 no limit; images: at most 5 in this run.
          const img = await run(db, ['db', 'purge_images_table', '--age_in_days', '30', '--max_rows', '5', '--json']);
          assert.is(img.code, 0, img.stderr);
          assert.equal(JSON.parse(img.stdout).tables[0].rows, 5);
          assert.is(
            JSON.parse(
              (await run(db, ['db', 'purge-images', '--age_in_days', '30', '--max_rows', '0', '--json'])).stdout,
            ).total,
            0,
          );
          assert.is(
            JSON.parse((await run(db, ['purge-images', '--age-in-days', '30', '--json'])).stdout).total,
            12 - 5,
          );
          assert.equal(
            await bookkeeping(db),
            before,
            'nothing but rows changed: same tables, same version rows, same alembic_version',
          );
        }),
    );
  }

  s(
    '--max_rows as glance-manage checks it (exit 2, nothing changed): below -1, past 2^31-1, not a number; purge --max-rows is the batch size still, with a note',
    () =>
      withDb(env, async (db) => {
        assert.is((await run(db, ['sync', '50'])).code, 0);
        const { sql, purged } = population();
        await db.exec(sql);
        const before = await tableCounts(db);
        for (const [args, text] of [
          [['--max_rows', '-2'], 'the smallest limit is -1'],
          [['--max_rows', '2147483648'], 'must not exceed 2147483647'],
          [['--max_rows', 'x'], 'must be a whole number'],
          [['--age_in_days', '-1'], '--age_in_days must be'],
        ] as const) {
          const r = await run(db, ['db', 'purge', ...args]);
          assert.is(r.code, 2, r.stderr);
          assert.match(r.stderr, text);
        }
        assert.equal(await tableCounts(db), before);
        const old = await run(db, ['purge', '--max-rows', '5', '--json']);
        assert.is(old.code, 0, old.stderr);
        assert.match(old.stderr, 'note: purge --max-rows is the old name of --batch-size');
        const j = JSON.parse(old.stdout);
        assert.equal([j.batchSize, j.tableLimit, j.total], [5, null, Object.values(purged).reduce((a, b) => a + b, 0)]);
      }),
  );

  s.run();
}
