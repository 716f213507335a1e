// The rolling upgrade's SQL on its own (issue 19), the same on every dialect:
// the phase files of 45 and 49 and the whole files of the other versions run
// directly, in the order a rolling upgrade runs them (every expand-kind file
// of 45 to the newest version, then every migrate-kind file, then every contract-kind file),
// not through the glance-db engine. While 45 is expanded but not contracted,
// an "old" writer (Newton's glance-api: is_public only, never visibility)
// and a "new" one (visibility only, never is_public) write and read images,
// also while the migrate batches run; both must always see what Glance's
// rules give, every image must end with the visibility those rules give,
// and the schema must end equal to Glance's own (reference v45 / the newest).
//
// Glance's rules (ocata_expand01's MySQL triggers, ocata_migrate01,
// ocata_contract01's has_migrations check), as the expected values here:
//   old writer inserts is_public p    -> visibility public if p else shared
//   new writer inserts visibility v   -> is_public = (v = public)
//   old writer changes is_public to p -> visibility public if p else shared
//   new writer changes visibility     -> is_public = (v = public)
//   rows from before expand (visibility NULL), by migrate: public if
//     is_public, else shared if a member row is not deleted, else private
//   contract never rewrites a visibility (issue 32): unlike Glance's
//     has_migrations, a private image with a member row not deleted stays
//     private (the new release writes private on purpose)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import initSqlJs, { type Database } from 'sql.js';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { Query, SchemaModel } from '../src/core/introspect/model.js';
import { introspectMysql } from '../src/dialects/mysql/introspect.js';
import { introspectPostgres } from '../src/dialects/postgresql/introspect.js';
import { introspectSqlite } from '../src/dialects/sqlite/introspect.js';
import { splitStatements } from '../src/core/sql/split.js';
import type { Dialect } from '../src/dialects/index.js';
import { loadManifest } from '../src/core/manifest/load.js';
import { PHASES } from '../src/core/manifest/types.js';
import { LATEST, referencePath, referenceSql, ROOT, sqliteQuery } from './helpers.js';
import { createDatabase, dropDatabase, loadSqlFile, serverParts, type ServerDialect } from './servers.js';

// ---------------------------------------------------------------- files

const MANIFEST = loadManifest(join(ROOT, 'glance-db.yaml'));
type Phase = 'expand' | 'migrate' | 'contract';
interface Step {
  v: number;
  phase?: Phase;
}

export const sqlFile = (dialect: Dialect, s: Step) => {
  const m = MANIFEST.migrations.find((x) => x.version === s.v)!;
  return readFileSync(join(ROOT, (s.phase ? m.phases![s.phase] : m.files)![dialect]!), 'utf8');
};

/**
 * A rolling upgrade from 44 to `target`: each step's files in order (no phase = the whole file), as the manifest's
 * `rolling:` places them (expand 45's expand phase, 47, 48, 50, 51; migrate 45 and 49; contract 45 and 46).
 */
export function rollingOrder(target: number): Record<Phase, Step[]> {
  const order: Record<Phase, Step[]> = { expand: [], migrate: [], contract: [] };
  for (const m of MANIFEST.migrations) {
    if (m.version <= 44 || m.version > target) continue;
    if (m.rolling === 'phased')
      for (const phase of PHASES) {
        if (m.phases?.[phase]) order[phase].push({ v: m.version, phase });
      }
    else order[m.rolling!].push({ v: m.version });
  }
  return order;
}

/** The migrate file with its batch size replaced (each statement says LIMIT 2000). */
export function withBatchSize(text: string, size: number): string {
  assert.ok(/LIMIT 2000\b/.test(text), 'a migrate file bounds its batch with LIMIT 2000');
  return text.replace(/LIMIT 2000\b/g, `LIMIT ${size}`);
}

/** The `-- glance-db:remaining` query on a migrate file's first line. */
export function remainingQuery(text: string): string {
  const m = /^-- glance-db:remaining (.+)$/.exec(text.split('\n')[0]);
  assert.ok(m, 'a migrate file starts with its -- glance-db:remaining line');
  return m![1];
}

// ---------------------------------------------------------------- databases

/** One connection: runs one statement (returns the rows it changed) or reads rows. */
export interface Session {
  run(sql: string): Promise<number>;
  rows(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** A scratch database (SQLite in memory, or gdb_rollsql_* on a server). */
export interface RollDb {
  dialect: Dialect;
  session(): Promise<Session>;
  /** Every session ends without a word, as when the process is killed; committed work stays. */
  kill(): Promise<void>;
  model(): Promise<SchemaModel>;
  drop(): Promise<void>;
}

const dbName = () => `gdb_rollsql_${randomBytes(4).toString('hex')}`;

/** Deadlocks between a writer and a batch are the server's to break; the loser retries, as oslo.db does. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; errno?: number };
      if (i < 20 && (e.code === '40P01' || e.code === '40001' || e.errno === 1213)) continue;
      throw err;
    }
  }
}

type PgClient = {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  end(): Promise<void>;
};

async function serverSession(dialect: ServerDialect, database: string): Promise<Session> {
  const p = serverParts(dialect);
  if (dialect === 'postgresql') {
    const Client = (pg as unknown as { Client: new (c: Record<string, unknown>) => PgClient }).Client;
    const c = new Client({
      host: p.host,
      port: Number(p.port),
      user: p.user,
      password: p.password || undefined,
      database,
    });
    await c.connect();
    return {
      run: (sql) => retrying(async () => (await c.query(sql)).rowCount ?? 0),
      rows: async (sql, params) => (await c.query(sql, params)).rows,
      close: () => c.end(),
    };
  }
  const c = await mysql.createConnection({
    host: p.host,
    port: Number(p.port),
    user: p.user,
    password: p.password || undefined,
    database,
  });
  return {
    // Rows changed, not rows matched (mysql2 asks for found rows).
    run: (sql) =>
      retrying(async () => {
        const r = (await c.query(sql))[0] as { affectedRows?: number; changedRows?: number };
        return /^\s*update/i.test(sql) ? Number(r.changedRows ?? 0) : Number(r.affectedRows ?? 0);
      }),
    rows: async (sql, params) => (await c.query(sql, params))[0] as Record<string, unknown>[],
    close: () => c.end(),
  };
}

let sqlJs: ReturnType<typeof initSqlJs> | null = null;
const SQL = () => (sqlJs ??= initSqlJs());

async function sqliteDb(): Promise<RollDb> {
  let db: Database = new (await SQL()).Database();
  const session = async (): Promise<Session> => ({
    run: async (sql) => {
      db.run(sql);
      return db.getRowsModified();
    },
    rows: (sql, params) => sqliteQuery(db)(sql, params),
    close: async () => {},
  });
  return {
    dialect: 'sqlite',
    session,
    // A killed process leaves the file as its last commit: reopen that image.
    kill: async () => {
      const bytes = db.export();
      db.close();
      db = new (await SQL()).Database(bytes);
    },
    model: () => introspectSqlite(sqliteQuery(db)),
    drop: async () => db.close(),
  };
}

async function serverDb(dialect: ServerDialect): Promise<RollDb> {
  const { name } = createDatabase(dialect, dbName());
  const open: Session[] = [];
  const session = async () => {
    const s = await serverSession(dialect, name);
    open.push(s);
    return s;
  };
  const kill = async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
  };
  return {
    dialect,
    session,
    kill,
    model: async () => {
      const s = await serverSession(dialect, name);
      try {
        const q: Query = (sql, params) => s.rows(sql, params);
        return dialect === 'postgresql' ? await introspectPostgres(q) : await introspectMysql(q, name);
      } finally {
        await s.close();
      }
    },
    drop: async () => {
      await kill();
      dropDatabase(dialect, name);
    },
  };
}

export const openRollDb = (dialect: Dialect): Promise<RollDb> =>
  dialect === 'sqlite' ? sqliteDb() : serverDb(dialect);

/** Glance's own schema at `version` (the reference dump), introspected. */
export async function referenceModel(dialect: Dialect, version: number): Promise<SchemaModel> {
  if (dialect === 'sqlite') {
    const db = new (await SQL()).Database();
    try {
      db.exec(referenceSql(version, 'sqlite'));
      return await introspectSqlite(sqliteQuery(db));
    } finally {
      db.close();
    }
  }
  const name = dbName();
  createDatabase(dialect, name);
  try {
    loadSqlFile(dialect, name, referencePath(version, dialect));
    const s = await serverSession(dialect, name);
    try {
      const q: Query = (sql, params) => s.rows(sql, params);
      return dialect === 'postgresql' ? await introspectPostgres(q) : await introspectMysql(q, name);
    } finally {
      await s.close();
    }
  } finally {
    dropDatabase(dialect, name);
  }
}

/** Runs every statement of a file once, in order. */
export async function runFile(s: Session, dialect: Dialect, text: string): Promise<void> {
  for (const st of splitStatements(text, dialect)) await s.run(st.text);
}

/**
 * Runs a migrate file as the design says the engine will: each statement
 * again and again until it changes no row. `stopAfter` batches (with rows)
 * stops early, as a kill between batches would. Returns the rows changed per run.
 */
export async function runMigrate(
  s: Session,
  dialect: Dialect,
  text: string,
  opts: { stopAfter?: number; between?: () => Promise<void> } = {},
): Promise<number[]> {
  const runs: number[] = [];
  for (const st of splitStatements(text, dialect)) {
    for (;;) {
      if (opts.stopAfter !== undefined && runs.filter((n) => n > 0).length >= opts.stopAfter) return runs;
      const n = await s.run(st.text);
      runs.push(n);
      if (n === 0) break;
      await opts.between?.();
    }
  }
  return runs;
}

// ---------------------------------------------------------------- data

const TS = "'2020-01-01 00:00:00'";
const VIS = ['private', 'public', 'shared', 'community'] as const;
type Vis = (typeof VIS)[number];

/** What one image must be, by Glance's rules, given what the writers did. */
interface Img {
  isPublic: boolean;
  /** Set by a write during the window (trigger or new writer); null: the migrate rule decides. */
  vis: Vis | null;
  member: boolean;
  /** Had a member row not deleted when expand ran (a pre-expand row's migrate may see either). */
  memberAtExpand: boolean;
  pre: boolean;
  deleted: boolean;
  /** Which writer may change it while both run at once (no two writers race on one row). */
  owner: 'old' | 'new';
}

const ruleOf = (i: Img): Vis => (i.isPublic ? 'public' : i.member ? 'shared' : 'private');
/**
 * The visibilities an image may have after contract, which rewrites none
 * (issue 32): the value a writer or a trigger gave it, else the migrate
 * rule's. A row from before expand that an old writer gave a member during
 * the window got `shared` if migrate reached it after that write, `private`
 * (its member then does not see it: the safe side) if before.
 */
export const finalVis = (i: Img): Vis[] => {
  if (i.vis !== null) return [i.vis];
  return i.member && !i.memberAtExpand && !i.isPublic ? ['shared', 'private'] : [ruleOf(i)];
};

const bool = (v: unknown) => v === true || v === 1 || v === '1' || v === 't';

/** A small deterministic random source, so a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}

export class World {
  readonly imgs = new Map<string, Img>();
  private seq = 0;
  /** Locations whose meta_data has a "backend": key (49 rewrites them), and those with a store once 49 ran. */
  backend = 0;
  withStore = 0;

  /** INSERTs of a version-44 population: public, private, shared (members), members deleted, deleted images, locations. */
  populate(n: number, rnd = prng(44)): string[] {
    const out: string[] = [];
    const images: string[] = [];
    const members: string[] = [];
    const locs: string[] = [];
    for (let k = 0; k < n; k++) {
      const id = `pre-${String(k).padStart(5, '0')}`;
      const kind = k % 6;
      const isPublic = kind === 0 || (kind === 5 && rnd.int(2) === 0);
      const deleted = kind === 4 || rnd.int(10) === 0;
      images.push(
        `('${id}', '${id}', '${deleted ? 'deleted' : 'active'}', '${isPublic ? 1 : 0}', ${TS}, '${deleted ? 1 : 0}', ${deleted ? TS : 'NULL'}, 0, 0, '0')`,
      );
      let member = false;
      if (kind === 2 || kind === 5) {
        members.push(`('${id}', 'tenant-a-${k}', '0', ${TS}, '0', NULL, 'accepted')`);
        member = true;
      }
      if (kind === 3) members.push(`('${id}', 'tenant-b-${k}', '0', ${TS}, '1', ${TS}, 'accepted')`);
      const meta = k % 4 < 2 ? '{"backend": "fast"}' : k % 4 === 2 ? '{"store": "slow"}' : null;
      if (k % 4 < 2) this.backend++;
      if (k % 4 < 3) this.withStore++;
      locs.push(`('${id}', 'file:///${id}', ${TS}, '0', ${meta === null ? 'NULL' : `'${meta}'`}, 'active')`);
      this.imgs.set(id, {
        isPublic,
        vis: null,
        member,
        memberAtExpand: member,
        pre: true,
        deleted,
        owner: k % 2 === 0 ? 'old' : 'new',
      });
    }
    const chunks = (rows: string[], head: string) => {
      for (let i = 0; i < rows.length; i += 500) out.push(`${head} VALUES ${rows.slice(i, i + 500).join(', ')}`);
    };
    chunks(
      images,
      'INSERT INTO images (id, name, status, is_public, created_at, deleted, deleted_at, min_disk, min_ram, protected)',
    );
    chunks(members, 'INSERT INTO image_members (image_id, member, can_share, created_at, deleted, deleted_at, status)');
    chunks(locs, 'INSERT INTO image_locations (image_id, value, created_at, deleted, meta_data, status)');
    return out;
  }

  nextId(prefix: string): string {
    return `${prefix}-${String(++this.seq).padStart(5, '0')}`;
  }
}

/** The old glance-api: knows is_public, has never heard of visibility. */
export class OldWriter {
  constructor(
    private s: Session,
    private w: World,
  ) {}

  async create(isPublic: boolean, owner: 'old' | 'new' = 'old'): Promise<string> {
    const id = this.w.nextId('old');
    await this.s.run(
      `INSERT INTO images (id, name, status, is_public, created_at, deleted, min_disk, min_ram, protected) VALUES ('${id}', '${id}', 'active', '${isPublic ? 1 : 0}', ${TS}, '0', 0, 0, '0')`,
    );
    this.w.imgs.set(id, {
      isPublic,
      vis: isPublic ? 'public' : 'shared',
      member: false,
      memberAtExpand: false,
      pre: false,
      deleted: false,
      owner,
    });
    await this.check(id);
    return id;
  }

  async setPublic(id: string, isPublic: boolean): Promise<void> {
    await this.s.run(`UPDATE images SET is_public = '${isPublic ? 1 : 0}', updated_at = ${TS} WHERE id = '${id}'`);
    const i = this.w.imgs.get(id)!;
    if (i.isPublic !== isPublic) Object.assign(i, { isPublic, vis: isPublic ? 'public' : 'shared' });
    await this.check(id);
  }

  async rename(id: string): Promise<void> {
    await this.s.run(`UPDATE images SET name = 'renamed by old', updated_at = ${TS} WHERE id = '${id}'`);
    await this.check(id);
  }

  /** Newton shares any image that is not public by adding a member. */
  async share(id: string): Promise<void> {
    await this.s.run(
      `INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status) VALUES ('${id}', '${this.w.nextId('tenant')}', '0', ${TS}, '0', 'accepted')`,
    );
    this.w.imgs.get(id)!.member = true;
    await this.check(id);
  }

  async remove(id: string): Promise<void> {
    await this.s.run(`UPDATE images SET deleted = '1', deleted_at = ${TS}, status = 'deleted' WHERE id = '${id}'`);
    this.w.imgs.get(id)!.deleted = true;
    await this.check(id);
  }

  /** What the old API shows of one image: is_public as the world says. */
  async check(id: string): Promise<void> {
    const [row] = await this.s.rows(`SELECT is_public FROM images WHERE id = '${id}'`);
    assert.is(bool(row.is_public), this.w.imgs.get(id)!.isPublic, `old writer reads is_public of ${id}`);
  }

  /** Every image, as the old API lists it: is_public of each, and the public ones not deleted. */
  async checkAll(): Promise<void> {
    const rows = await this.s.rows('SELECT id, is_public FROM images');
    assert.is(rows.length, this.w.imgs.size, 'old writer sees every image');
    for (const r of rows)
      assert.is(bool(r.is_public), this.w.imgs.get(String(r.id))!.isPublic, `old writer reads is_public of ${r.id}`);
    const listed = (await this.s.rows("SELECT id FROM images WHERE is_public = '1' AND deleted = '0'"))
      .map((r) => String(r.id))
      .sort();
    const expected = [...this.w.imgs]
      .filter(([, i]) => i.isPublic && !i.deleted)
      .map(([id]) => id)
      .sort();
    assert.equal(listed, expected, 'old writer lists the public images');
  }
}

/** The new glance-api: knows visibility, never names is_public. */
export class NewWriter {
  constructor(
    private s: Session,
    private w: World,
  ) {}

  async create(vis: Vis, owner: 'old' | 'new' = 'new'): Promise<string> {
    const id = this.w.nextId('new');
    await this.s.run(
      `INSERT INTO images (id, name, status, visibility, created_at, deleted, min_disk, min_ram, protected) VALUES ('${id}', '${id}', 'active', '${vis}', ${TS}, '0', 0, 0, '0')`,
    );
    this.w.imgs.set(id, {
      isPublic: vis === 'public',
      vis,
      member: false,
      memberAtExpand: false,
      pre: false,
      deleted: false,
      owner,
    });
    await this.check(id);
    return id;
  }

  async setVisibility(id: string, vis: Vis): Promise<void> {
    await this.s.run(`UPDATE images SET visibility = '${vis}', updated_at = ${TS} WHERE id = '${id}'`);
    Object.assign(this.w.imgs.get(id)!, { vis, isPublic: vis === 'public' });
    await this.check(id);
  }

  async rename(id: string): Promise<void> {
    await this.s.run(`UPDATE images SET name = 'renamed by new', updated_at = ${TS} WHERE id = '${id}'`);
    await this.check(id);
  }

  /** Ocata shares only images whose visibility is shared. */
  async share(id: string): Promise<void> {
    await this.s.run(
      `INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status) VALUES ('${id}', '${this.w.nextId('tenant')}', '0', ${TS}, '0', 'pending')`,
    );
    this.w.imgs.get(id)!.member = true;
    await this.check(id);
  }

  /** What the new API shows of one image it may read (visibility set): visibility as the world says. */
  async check(id: string): Promise<void> {
    const i = this.w.imgs.get(id)!;
    const [row] = await this.s.rows(`SELECT visibility FROM images WHERE id = '${id}'`);
    if (i.vis !== null) assert.is(row.visibility, i.vis, `new writer reads visibility of ${id}`);
  }

  /**
   * Every image as the new API sees it. Before migrate, rows from before
   * expand may still be NULL (the new release starts after migrate, as in
   * Glance's procedure); after it, none is, and each has the migrate rule's
   * value (a member an old writer added after the row was migrated leaves it
   * `private`, so `private` is allowed there).
   */
  async checkAll(migrated: boolean): Promise<void> {
    const rows = await this.s.rows('SELECT id, visibility FROM images');
    assert.is(rows.length, this.w.imgs.size, 'new writer sees every image');
    for (const r of rows) {
      const i = this.w.imgs.get(String(r.id))!;
      if (i.vis !== null) assert.is(r.visibility, i.vis, `new writer reads visibility of ${r.id}`);
      else if (!migrated)
        assert.ok(
          r.visibility === null || r.visibility === ruleOf(i),
          `${r.id}: NULL or the migrate rule before migrate is done`,
        );
      else {
        const allowed = [ruleOf(i), ...(i.member && !i.memberAtExpand && !i.isPublic ? ['private'] : [])];
        assert.ok(
          allowed.includes(r.visibility as Vis),
          `${r.id}: visibility ${r.visibility} after migrate, expected ${allowed.join(' or ')}`,
        );
      }
    }
  }
}

/** Random operations by both writers, each touching only rows it may (see Img.owner when `own`). */
export async function writeWhileRunning(
  o: OldWriter,
  n: NewWriter,
  w: World,
  rnd: ReturnType<typeof prng>,
  ops: number,
  mode: { own: boolean; migrated: boolean },
): Promise<void> {
  const mine = (who: 'old' | 'new') =>
    [...w.imgs].filter(([, i]) => !i.deleted && (!mode.own || i.owner === who)).map(([id]) => id);
  const oldOp = async () => {
    const id = rnd.pick(mine('old'));
    switch (rnd.int(6)) {
      case 0:
        await o.create(rnd.int(2) === 0);
        break;
      case 1:
      case 2:
        await o.setPublic(id, !w.imgs.get(id)!.isPublic);
        break;
      case 3:
        await o.rename(id);
        break;
      case 4:
        if (!w.imgs.get(id)!.isPublic) await o.share(id);
        break;
      default:
        if (rnd.int(4) === 0) await o.remove(id);
    }
  };
  const newOp = async () => {
    // The new release reads only rows that have a visibility (before migrate, rows written in the window).
    const ids = mine('new').filter((id) => mode.migrated || w.imgs.get(id)!.vis !== null);
    const id = ids.length ? rnd.pick(ids) : null;
    const op = rnd.int(5);
    if (op === 0 || id === null) await n.create(rnd.pick(VIS));
    else if (op <= 2) await n.setVisibility(id, rnd.pick(VIS));
    else if (op === 3) await n.rename(id);
    else if (w.imgs.get(id)!.vis === 'shared') await n.share(id);
  };
  const loop = async (op: () => Promise<void>) => {
    for (let k = 0; k < ops; k++) await op();
  };
  // Side by side on their own rows, or taking turns on any row.
  if (mode.own) await Promise.all([loop(oldOp), loop(newOp)]);
  else for (let k = 0; k < ops; k++) await (k % 2 === 0 ? oldOp() : newOp());
}

// ---------------------------------------------------------------- suite

export const IGNORE = { ignoreTables: ['alembic_version'] };

async function buildV44(db: RollDb, s: Session, w: World, images: number): Promise<void> {
  for (const v of [42, 43, 44]) await runFile(s, db.dialect, sqlFile(db.dialect, { v }));
  for (const stmt of w.populate(images)) await s.run(stmt);
}

/** The triggers and trigger functions left on images. */
async function triggers(s: Session, dialect: Dialect): Promise<string[]> {
  const sql = {
    sqlite: "SELECT name FROM sqlite_master WHERE type = 'trigger'",
    postgresql:
      'SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal UNION ALL SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()',
    mysql: 'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()',
  }[dialect];
  return (await s.rows(sql)).map((r) => String(r.name)).sort();
}

async function finalChecks(db: RollDb, s: Session, w: World, target: number): Promise<void> {
  assert.equal(await triggers(s, db.dialect), [], 'contract leaves no trigger or trigger function');
  const rows = await s.rows('SELECT id, visibility FROM images');
  assert.is(rows.length, w.imgs.size);
  const wrong = rows
    .filter((r) => !finalVis(w.imgs.get(String(r.id))!).includes(r.visibility as Vis))
    .map((r) => `${r.id}: ${r.visibility}, expected ${finalVis(w.imgs.get(String(r.id))!).join(' or ')}`);
  assert.equal(wrong, [], "every image has the visibility Glance's rules give");
  assert.equal(
    diffSchemas(await referenceModel(db.dialect, target), await db.model(), IGNORE),
    [],
    `schema equals reference v${target}`,
  );
}

export function rollingWindow(dialect: Dialect): void {
  const s = suite(`rolling window: ${dialect}`);
  const withRollDb = async (fn: (db: RollDb) => Promise<void>) => {
    const db = await openRollDb(dialect);
    try {
      await fn(db);
    } finally {
      await db.drop();
    }
  };

  for (const target of [45, LATEST]) {
    s(`44 -> ${target} by expand, migrate, contract with old and new writers in the window`, () =>
      withRollDb(async (db) => {
        const order = rollingOrder(target);
        const w = new World();
        const rnd = prng(target);
        const admin = await db.session();
        await buildV44(db, admin, w, 150);
        for (const step of order.expand) await runFile(admin, dialect, sqlFile(dialect, step));
        assert.equal(
          (await triggers(admin, dialect)).filter((t) => /visibility/.test(t)).length >= 2,
          true,
          'expand creates the triggers',
        );

        const o = new OldWriter(await db.session(), w);
        const n = new NewWriter(await db.session(), w);
        // Before migrate: both write; the old one sees every image right, the new one the window's.
        await writeWhileRunning(o, n, w, rnd, 40, { own: false, migrated: false });
        await o.checkAll();
        await n.checkAll(false);

        // Migrate in small batches, while both writers keep going on their own rows.
        const migrator = await db.session();
        const v45 = sqlFile(dialect, order.migrate[0]);
        const [runs] = await Promise.all([
          runMigrate(migrator, dialect, withBatchSize(v45, 9)),
          writeWhileRunning(o, n, w, rnd, 30, { own: true, migrated: false }),
        ]);
        assert.ok(runs.filter((r) => r > 0).length >= 5, `45's migrate took several batches (${runs.join(',')})`);
        assert.equal(
          await admin.rows(remainingQuery(v45)).then((r) => Number(Object.values(r[0])[0])),
          0,
          'nothing remains',
        );
        await o.checkAll();
        await n.checkAll(true);
        if (target >= 49) {
          const v49 = sqlFile(dialect, order.migrate[1]);
          const before = Number(Object.values((await admin.rows(remainingQuery(v49)))[0])[0]);
          assert.is(before, w.backend);
          const r49 = await runMigrate(migrator, dialect, withBatchSize(v49, 7));
          assert.is(
            r49.reduce((a, b) => a + b, 0),
            before,
            "49's batches rewrite every location that had the key",
          );
          const left = await admin.rows(
            'SELECT count(*) AS n FROM image_locations WHERE meta_data LIKE \'%"backend":%\'',
          );
          assert.is(Number(left[0].n), 0);
          const stores = await admin.rows(
            'SELECT count(*) AS n FROM image_locations WHERE meta_data LIKE \'%"store":%\'',
          );
          assert.is(Number(stores[0].n), w.withStore);
        }

        // After migrate, old nodes still run until every node is upgraded.
        await writeWhileRunning(o, n, w, rnd, 30, { own: false, migrated: true });
        await o.checkAll();
        await n.checkAll(true);

        for (const step of order.contract) await runFile(admin, dialect, sqlFile(dialect, step));
        await finalChecks(db, admin, w, target);
      }),
    );
  }

  s('the shipped migrate files: bounded batches, a stop between batches continues, a re-run changes nothing', () =>
    withRollDb(async (db) => {
      const order = rollingOrder(LATEST);
      const w = new World();
      let s1 = await db.session();
      await buildV44(db, s1, w, 4500);
      for (const step of order.expand) await runFile(s1, dialect, sqlFile(dialect, step));
      for (const step of order.migrate) {
        const text = sqlFile(dialect, step);
        const total = Number(Object.values((await s1.rows(remainingQuery(text)))[0])[0]);
        const first = await runMigrate(s1, dialect, text, { stopAfter: 1 });
        assert.equal(first, [2000], `${step.v}: one batch of 2000`);
        await db.kill();
        s1 = await db.session();
        assert.is(
          Number(Object.values((await s1.rows(remainingQuery(text)))[0])[0]),
          total - 2000,
          `${step.v}: the stopped run left the rest`,
        );
        const rest = await runMigrate(s1, dialect, text);
        assert.is(rest[rest.length - 1], 0);
        assert.ok(
          rest.every((r) => r <= 2000) && rest.reduce((a, b) => a + b, 0) === total - 2000,
          `${step.v}: batches ${rest.join(',')}`,
        );
      }
      // Completed: every statement changes nothing, and the data stay as they are.
      const snapshot = async () =>
        JSON.stringify([
          ...(await s1.rows('SELECT id, visibility, is_public FROM images ORDER BY id')).map((r) => [
            r.id,
            r.visibility,
            bool(r.is_public),
          ]),
          ...(await s1.rows('SELECT id, meta_data FROM image_locations ORDER BY id')).map((r) => [r.id, r.meta_data]),
        ]);
      const before = await snapshot();
      for (const step of order.migrate)
        for (const st of splitStatements(sqlFile(dialect, step), dialect))
          assert.is(await s1.run(st.text), 0, 're-run changes nothing');
      assert.is(await snapshot(), before);
      for (const step of order.contract) await runFile(s1, dialect, sqlFile(dialect, step));
      await finalChecks(db, s1, w, LATEST);
    }),
  );

  s("Glance's trigger rules, edge cases included, while 45 is expanded", () =>
    withRollDb(async (db) => {
      const w = new World();
      const a = await db.session();
      await buildV44(db, a, w, 6);
      await runFile(a, dialect, sqlFile(dialect, { v: 45, phase: 'expand' }));
      const row = async (id: string) => {
        const [r] = await a.rows(`SELECT is_public, visibility FROM images WHERE id = '${id}'`);
        return [bool(r.is_public), r.visibility];
      };
      const ins = (id: string, cols: string, vals: string) =>
        a.run(
          `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected${cols}) VALUES ('${id}', '${id}', 'active', ${TS}, '0', 0, 0, '0'${vals})`,
        );
      const refused = async (what: string, sql: () => Promise<unknown>) => {
        let err: Error | null = null;
        await sql().catch((e: Error) => (err = e));
        assert.ok(
          err && /Invalid visibility value/.test((err as Error).message),
          `${what} is refused with Glance's message (${err})`,
        );
      };
      await ins('o1', ', is_public', ", '0'");
      assert.equal(await row('o1'), [false, 'shared'], 'is_public false inserts shared, not private (Glance)');
      await ins('o2', ', is_public', ", '1'");
      assert.equal(await row('o2'), [true, 'public']);
      for (const v of VIS) {
        await ins(`n-${v}`, ', visibility', `, '${v}'`);
        assert.equal(await row(`n-${v}`), [v === 'public', v]);
      }
      await refused('an insert with neither', () => ins('x1', '', ''));
      await refused('an insert with both', () => ins('x2', ', is_public, visibility', ", '0', 'private'"));
      await refused('an insert with is_public NULL and no visibility', () => ins('x3', ', is_public', ', NULL'));
      assert.equal(
        await a.rows("SELECT id FROM images WHERE id IN ('x1', 'x2', 'x3')"),
        [],
        'a refused insert leaves no row',
      );

      await a.run("UPDATE images SET is_public = '1' WHERE id = 'n-community'");
      assert.equal(await row('n-community'), [true, 'public'], 'is_public true makes it public');
      await a.run("UPDATE images SET is_public = '0' WHERE id = 'n-community'");
      assert.equal(await row('n-community'), [false, 'shared'], 'is_public false makes it shared');
      await a.run("UPDATE images SET visibility = 'community' WHERE id = 'o2'");
      assert.equal(await row('o2'), [false, 'community'], 'visibility sets is_public');
      await a.run("UPDATE images SET visibility = 'public' WHERE id = 'o1'");
      assert.equal(await row('o1'), [true, 'public']);
      await a.run("UPDATE images SET name = 'same' WHERE id = 'n-private'");
      assert.equal(await row('n-private'), [false, 'private'], 'an update of neither column changes neither');
      await a.run("UPDATE images SET is_public = '1' WHERE id = 'pre-00000'");
      assert.equal(await row('pre-00000'), [true, null], 'is_public set to its own value leaves visibility to migrate');
      await a.run("UPDATE images SET is_public = '1' WHERE id = 'pre-00001'");
      assert.equal(
        await row('pre-00001'),
        [true, 'public'],
        'a change of is_public on a row not migrated yet gives it a visibility',
      );
      await a.run("UPDATE images SET visibility = 'private' WHERE id = 'pre-00002'");
      assert.equal(await row('pre-00002'), [false, 'private']);
      await refused('is_public set to NULL', () => a.run("UPDATE images SET is_public = NULL WHERE id = 'o1'"));
      await refused('visibility set to NULL', () => a.run("UPDATE images SET visibility = NULL WHERE id = 'o1'"));
      await refused('both changed at once', () =>
        a.run("UPDATE images SET is_public = '0', visibility = 'private' WHERE id = 'o1'"),
      );
      assert.equal(await row('o1'), [true, 'public'], 'a refused update changes nothing');
    }),
  );

  s("45's migrate batch finds its rows through visibility_image_idx", () =>
    withRollDb(async (db) => {
      const w = new World();
      const a = await db.session();
      await buildV44(db, a, w, 3000);
      await runFile(a, dialect, sqlFile(dialect, { v: 45, phase: 'expand' }));
      // Statistics that say every row is NULL: the case where a scan looks cheapest.
      await a.run(dialect === 'mysql' ? 'ANALYZE TABLE images' : 'ANALYZE');
      const [stmt] = splitStatements(sqlFile(dialect, { v: 45, phase: 'migrate' }), dialect);
      const plan = JSON.stringify(
        await a.rows(`${dialect === 'sqlite' ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN'} ${stmt.text}`),
      );
      assert.ok(plan.includes('visibility_image_idx'), `the plan uses visibility_image_idx: ${plan}`);
      if (dialect === 'mysql') assert.not.ok(/filesort/i.test(plan), `no sort of all NULL rows per batch: ${plan}`);
    }),
  );

  s.run();
}
