// A Glance-like workload for the rolling-upgrade benchmark: an "old"
// glance-api (pre-Ocata: reads and writes images.is_public, knows nothing
// of visibility) and a "new" one (2024.1: visibility, os_hidden, the os_hash
// columns, never is_public), each a small connection pool running image
// get, list, create, update and delete at a fixed rate. Each uses only the
// columns its release knows, so when they vanish (is_public dropped by
// contract or sync) its operations fail and are counted, not hidden.
//
// The statements are shaped like Glance's SQLAlchemy ones (image_get with
// its properties and locations, image_get_all's filters, image_create with
// properties, a location and a member in one transaction, image_update,
// image_destroy's soft delete of the image and everything hanging off it).
// Writers touch disjoint images (populated image i: odd for old, even for
// new, plus what each created), so the end state of every image is known
// from one client's log (bench/rolling-model.mjs).
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { BASE_PREFIX, VISIBILITIES } from './rolling-model.mjs';

// pg is slonik's driver (a dependency of the project through it), mysql2 the MySQL driver.
const require = createRequire(import.meta.url);

const MIX = [
  ['get', 40],
  ['list', 20],
  ['create', 15],
  ['update', 15],
  ['delete', 10],
];
const COMMON =
  'id, name, size, status, created_at, updated_at, deleted_at, deleted, disk_format, container_format, checksum, owner, min_disk, min_ram, protected, virtual_size';
const COLUMNS = { old: `${COMMON}, is_public`, new: `${COMMON}, visibility, os_hidden, os_hash_algo, os_hash_value` };

/** A pool of `size` connections with one call shape for both drivers: q(sql with ?, params) -> { rows, affected }. */
export async function openPool(dialect, url, size, opTimeoutS) {
  if (dialect === 'postgresql') {
    const pg = require('pg');
    // Glance keeps no statement timeout; this one only guarantees the bench ends.
    const pool = new pg.Pool({
      connectionString: url,
      max: size,
      options: `-c statement_timeout=${opTimeoutS * 1000}`,
    });
    pool.on('error', () => {});
    return {
      async withConn(fn) {
        const c = await pool.connect();
        let lost;
        try {
          return await fn({
            q: async (sql, params = []) => {
              let n = 0;
              const r = await c.query(
                sql.replace(/\?/g, () => `$${++n}`),
                params,
              );
              return { rows: r.rows, affected: r.rowCount };
            },
            begin: () => c.query('BEGIN'),
            commit: () => c.query('COMMIT'),
            rollback: () =>
              c.query('ROLLBACK').catch((err) => {
                lost = err;
              }),
          });
        } catch (err) {
          // A server's error (it has a severity) leaves the connection usable; anything else does not.
          if (!err?.severity) lost = err;
          throw err;
        } finally {
          c.release(lost);
        }
      },
      end: () => pool.end(),
    };
  }
  const mysql = require('mysql2/promise');
  const pool = mysql.createPool({ uri: url, connectionLimit: size, dateStrings: true, supportBigNumbers: true });
  pool.pool.on('connection', (c) =>
    c.query(
      `SET SESSION max_statement_time = ${opTimeoutS}, lock_wait_timeout = ${opTimeoutS}, innodb_lock_wait_timeout = ${opTimeoutS}`,
    ),
  );
  return {
    async withConn(fn) {
      const c = await pool.getConnection();
      let broken = false;
      try {
        return await fn({
          q: async (sql, params = []) => {
            const [r] = await c.query(sql, params);
            return Array.isArray(r) ? { rows: r, affected: r.length } : { rows: [], affected: r.affectedRows };
          },
          begin: () => c.query('START TRANSACTION'),
          commit: () => c.query('COMMIT'),
          rollback: () =>
            c.query('ROLLBACK').catch(() => {
              broken = true;
            }),
        });
      } catch (err) {
        // A server's error leaves the connection usable; a lost connection is fatal.
        if (err?.fatal || !err?.sqlState) broken = true;
        throw err;
      } finally {
        if (broken) c.destroy();
        else c.release();
      }
    },
    end: () => pool.end(),
  };
}

/** A deadlock (or, on Galera, a certification conflict, reported as one): the transaction was rolled back whole. */
const isDeadlock = (err) => err?.code === '40P01' || err?.errno === 1213;

/**
 * Runs fn in a transaction on one pooled connection. On a deadlock it waits
 * 500 ms and runs it again, up to 50 times, as Glance's image_create,
 * image_update and image_destroy do (@retry(retry_on_exception=
 * _retry_on_deadlock, wait_fixed=500, stop_max_attempt_number=50)); the
 * retries are counted in meta.retries and their time is in the latency.
 */
async function tx(pool, fn, meta = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pool.withConn(async (c) => {
        await c.begin();
        try {
          const r = await fn(c);
          await c.commit();
          return r;
        } catch (err) {
          await c.rollback();
          throw err;
        }
      });
    } catch (err) {
      if (!isDeadlock(err) || attempt >= 50) throw err;
      meta.retries = (meta.retries ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const pick = (rnd, xs) => xs[Math.floor(rnd() * xs.length)];
const pad12 = (i) => String(i).padStart(12, '0');

/** The operations of one client release against one pool; ledger records writes (bench/rolling-model.mjs). */
export function operations(release, pool, { images, rnd, ledger }) {
  const cols = COLUMNS[release];
  const isOld = release === 'old';
  const created = [];
  const busy = new Set();
  // Its own half of the populated images (odd for old, even for new) or one it created.
  const target = () => {
    for (let tries = 0; tries < 20; tries++) {
      let id;
      if (created.length && rnd() < 0.5) id = pick(rnd, created);
      else {
        const i = 2 * Math.floor(rnd() * Math.floor(images / 2)) + (isOld ? 1 : 2);
        if (i > images) continue;
        id = BASE_PREFIX + pad12(i);
      }
      if (!busy.has(id)) return id;
    }
    return null;
  };
  const anyId = () =>
    created.length && rnd() < 0.2 ? pick(rnd, created) : BASE_PREFIX + pad12(1 + Math.floor(rnd() * images));
  const owner = () => `tenant-${Math.floor(rnd() * 97)}`;
  /** Serialises writes to one image within a client, so its log order is commit order. */
  const exclusive = async (id, fn) => {
    busy.add(id);
    try {
      return await fn();
    } finally {
      busy.delete(id);
    }
  };

  return {
    async get() {
      const id = anyId();
      await pool.withConn(async (c) => {
        const { rows } = await c.q(`SELECT ${cols} FROM images WHERE id = ? AND deleted = false`, [id]);
        if (!rows.length) return;
        await c.q('SELECT name, value FROM image_properties WHERE image_id = ? AND deleted = false', [id]);
        await c.q('SELECT id, value, meta_data, status FROM image_locations WHERE image_id = ? AND deleted = false', [
          id,
        ]);
      });
    },

    async list() {
      // Base images share one created_at, so a tie-breaker on id would sort them all; Glance's default sort key alone.
      // Without Glance's os_hidden = false: MariaDB 10.11 plans it as an index-merge intersection of
      // ix_images_deleted and os_hidden_image_idx plus a filesort (0.5 s at 200,000 images, before and
      // after any upgrade alike), which would bury what the upgrade does; PostgreSQL is unaffected.
      const visible = isOld ? 'is_public = true' : "visibility IN ('public', 'community')";
      const hidden = '';
      await pool.withConn(async (c) => {
        const { rows } = await c.q(
          `SELECT ${cols} FROM images WHERE deleted = false AND status = 'active'${hidden} AND (${visible} OR owner = ?) ORDER BY created_at DESC LIMIT 20`,
          [owner()],
        );
        if (rows.length)
          await c.q(
            `SELECT image_id, name, value FROM image_properties WHERE deleted = false AND image_id IN (${rows.map(() => '?').join(', ')})`,
            rows.map((r) => r.id),
          );
      });
    },

    async create(meta) {
      const id = randomUUID();
      const own = owner();
      const value = isOld ? rnd() < 0.3 : pick(rnd, VISIBILITIES);
      const kind = isOld ? 'oldCreate' : 'newCreate';
      try {
        await tx(
          pool,
          async (c) => {
            await c.q(
              `INSERT INTO images (id, name, size, status, ${isOld ? 'is_public' : 'visibility, os_hidden'}, created_at, updated_at, deleted, disk_format, container_format, checksum, owner, min_disk, min_ram, protected)
            VALUES (?, ?, ?, 'active', ?, ${isOld ? '' : 'false, '}CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, 'qcow2', 'bare', ?, ?, 0, 0, false)`,
              [id, `bench-${release}`, Math.floor(rnd() * 1e9), value, randomBytes(16).toString('hex'), own],
            );
            await c.q(
              `INSERT INTO image_properties (image_id, name, value, created_at, deleted) VALUES (?, 'prop_1', ?, CURRENT_TIMESTAMP, false), (?, 'prop_2', ?, CURRENT_TIMESTAMP, false)`,
              [id, 'one', id, 'two'],
            );
            await c.q(
              `INSERT INTO image_locations (image_id, value, created_at, deleted, meta_data, status) VALUES (?, ?, CURRENT_TIMESTAMP, false, ?, 'active')`,
              [id, `file:///var/lib/glance/images/${id}`, isOld ? '{}' : '{"store": "fast"}'],
            );
            // Since Ocata only a shared image has members; before it any image could.
            if (isOld || value === 'shared')
              await c.q(
                `INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status) VALUES (?, ?, false, CURRENT_TIMESTAMP, false, 'pending')`,
                [id, `${own}-peer`],
              );
          },
          meta,
        );
      } catch (err) {
        ledger.uncertainCreate(id, kind, value);
        throw err;
      }
      ledger.record(id, kind, value);
      created.push(id);
    },

    async update(meta) {
      const id = target();
      if (!id) return;
      // The new client never makes an image private: one with members would become shared again by
      // Glance's migrate rule (private with a member is shared), a race the check could not call.
      const value = isOld
        ? rnd() < 0.5
        : pick(
            rnd,
            VISIBILITIES.filter((v) => v !== 'private'),
          );
      const kind = isOld ? 'oldUpdate' : 'newUpdate';
      await exclusive(id, async () => {
        let changed;
        try {
          changed = await tx(
            pool,
            async (c) => {
              const r = await c.q(
                `UPDATE images SET name = ?, min_disk = ?, updated_at = CURRENT_TIMESTAMP, ${isOld ? 'is_public' : 'visibility'} = ? WHERE id = ? AND deleted = false`,
                [`bench-${release}-updated`, Math.floor(rnd() * 100), value, id],
              );
              if (r.affected > 0)
                await c.q(
                  `UPDATE image_properties SET value = ?, updated_at = CURRENT_TIMESTAMP WHERE image_id = ? AND name = 'prop_1' AND deleted = false`,
                  ['changed', id],
                );
              return r.affected > 0;
            },
            meta,
          );
        } catch (err) {
          ledger.record(id, kind, value, { ok: false });
          throw err;
        }
        ledger.record(id, kind, value, { changed });
      });
    },

    async delete(meta) {
      const id = target();
      if (!id) return;
      await exclusive(id, async () => {
        let changed;
        try {
          changed = await tx(
            pool,
            async (c) => {
              const r = await c.q(
                `UPDATE images SET deleted = true, deleted_at = CURRENT_TIMESTAMP, status = 'deleted', updated_at = CURRENT_TIMESTAMP WHERE id = ? AND deleted = false`,
                [id],
              );
              if (r.affected === 0) return false;
              await c.q(
                `UPDATE image_locations SET deleted = true, deleted_at = CURRENT_TIMESTAMP, status = 'deleted' WHERE image_id = ? AND deleted = false`,
                [id],
              );
              await c.q(
                'UPDATE image_properties SET deleted = true, deleted_at = CURRENT_TIMESTAMP WHERE image_id = ? AND deleted = false',
                [id],
              );
              await c.q(
                'UPDATE image_members SET deleted = true, deleted_at = CURRENT_TIMESTAMP WHERE image_id = ? AND deleted = false',
                [id],
              );
              await c.q(
                'UPDATE image_tags SET deleted = true, deleted_at = CURRENT_TIMESTAMP WHERE image_id = ? AND deleted = false',
                [id],
              );
              return true;
            },
            meta,
          );
        } catch (err) {
          ledger.record(id, 'delete', null, { ok: false });
          throw err;
        }
        ledger.record(id, 'delete', null, { changed });
        if (changed) {
          const k = created.indexOf(id);
          if (k >= 0) created.splice(k, 1);
        }
      });
    },
  };
}

/** A seeded generator (mulberry32): the same seed gives the same operation sequence. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One client: operations due every 1000/rate ms from start(), each started
 * when due whatever the others are doing (an open system, as API requests
 * are), so a blocked table shows as latency and queued requests rather
 * than as a slower rate.
 */
export class Client {
  constructor(release, dialect, url, { rate, poolSize, opTimeoutS, images, seed, ledger, clock }) {
    Object.assign(this, { release, dialect, url, rate, poolSize, opTimeoutS, images, ledger, clock });
    this.rnd = random(seed + (release === 'old' ? 1 : 2));
    this.records = [];
    this.inflight = new Set();
  }

  async start() {
    this.pool = await openPool(this.dialect, this.url, this.poolSize, this.opTimeoutS);
    this.ops = operations(this.release, this.pool, { images: this.images, rnd: this.rnd, ledger: this.ledger });
    this.startedAt = this.clock();
    const every = 1000 / this.rate;
    let due = this.startedAt;
    const tick = () => {
      const now = this.clock();
      while (due <= now) {
        this.launch(due);
        due += every;
      }
      this.timer = setTimeout(tick, Math.max(1, due - this.clock()));
    };
    tick();
  }

  launch(due) {
    let x = this.rnd() * 100;
    const [op] = MIX.find(([, w]) => (x -= w) < 0) ?? MIX[0];
    const meta = {};
    const done = (ok, err) =>
      this.records.push({
        c: this.release,
        op,
        s: due,
        e: this.clock(),
        ok,
        ...(err ? { err: oneLine(err) } : {}),
        ...(meta.retries ? { retries: meta.retries } : {}),
      });
    const p = this.ops[op](meta)
      .then(
        () => done(true),
        (err) => done(false, err),
      )
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Stops issuing, waits for what is in flight (bounded by the statement timeout), closes the pool. */
  async stop() {
    clearTimeout(this.timer);
    this.stoppedAt = this.clock();
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    await this.pool.end().catch(() => {});
  }
}

const oneLine = (err) =>
  String(err?.message ?? err)
    .split('\n')[0]
    .slice(0, 200);
