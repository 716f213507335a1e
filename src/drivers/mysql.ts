// MySQL and MariaDB through mysql2. DDL commits implicitly here, so instead of
// one transaction per version the driver records progress after every
// statement (count and hash) and a later run resumes where a failed one
// stopped. The migration lock is a row in a table, which Galera replicates
// (GET_LOCK is node-local there: Flyway issue 4271).
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { statementHash } from '../checksum.js';
import type { ServerTarget } from '../url.js';
import { connectMysql, connectionError } from './mysql-connect.js';
import type { ApplyOutcome, Driver, DriverConfig, PendingVersion, VersionRow } from './driver.js';
import { statementFailed } from './failure.js';
import { MysqlLock } from './mysql-lock.js';
import { columnsQuery, createVersionTableSql, ensureColumnsSql, insertSql, rowFrom, rowValues, selectSql } from './version-table.js';

export function createServerDriver(config: DriverConfig): Driver {
  return new MysqlDriver(config);
}

/**
 * Errors that mean a DDL statement's effect is already in place: table
 * exists, unknown table, duplicate column or key, cannot drop a missing
 * column or key, duplicate foreign key. Accepted only for a statement that
 * a killed run had started.
 */
const ALREADY_THERE = new Set([1050, 1051, 1060, 1061, 1091, 1826]);

const startedMarker = (index: number) => `interrupted: statement ${index + 1} had started`;

/** Statements that InnoDB can commit atomically with their progress update. */
const TRANSACTIONAL = /^(insert|update|delete|replace)\b/i;

class MysqlDriver implements Driver {
  readonly dialect = 'mysql' as const;
  private conn: Connection | null = null;
  private lockHandle: MysqlLock | null = null;

  constructor(private readonly config: DriverConfig) {}

  async open(): Promise<void> {
    this.conn = await connectMysql(this.config);
    const t = this.config.target as ServerTarget;
    try {
      await this.conn.query(`SET SESSION lock_wait_timeout = ${this.config.lockTimeoutMs ? Math.ceil(this.config.lockTimeoutMs / 1000) : 31536000}`);
      if (this.config.statementTimeoutMs) await this.setStatementTimeout();
    } catch (err) {
      throw connectionError(t, err);
    }
  }

  /** MariaDB calls it max_statement_time (seconds), MySQL max_execution_time (ms, SELECT only). */
  private async setStatementTimeout(): Promise<void> {
    const [rows] = await this.conn!.query<RowDataPacket[]>('SELECT VERSION() AS v');
    const mariadb = /mariadb/i.test(String(rows[0].v));
    await this.conn!.query(mariadb ? `SET SESSION max_statement_time = ${this.config.statementTimeoutMs / 1000}` : `SET SESSION max_execution_time = ${this.config.statementTimeoutMs}`);
  }

  exists(): boolean {
    return this.conn !== null;
  }

  async lock(): Promise<void> {
    this.lockHandle = new MysqlLock(this.config);
    await this.lockHandle.acquire();
  }

  async unlock(): Promise<void> {
    await this.lockHandle?.release();
    this.lockHandle = null;
  }

  query = async (text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const [rows] = await this.conn!.query<RowDataPacket[]>(text, params);
    return rows as Record<string, unknown>[];
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1");
    return rows.map((r) => String(r.t)).filter((t) => t !== `${this.config.versionTable}_lock`);
  }

  async ensureVersionTable(): Promise<void> {
    const table = this.config.versionTable;
    await this.conn!.query(createVersionTableSql(table, 'mysql'));
    // A table made by an earlier release gets the columns added since.
    for (const a of ensureColumnsSql(table, 'mysql', await this.columns())) await this.conn!.query(a);
  }

  private async columns(): Promise<string[]> {
    return (await this.query(columnsQuery(this.config.versionTable, 'mysql'))).map((r) => String(r.name));
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!(await this.listTables()).includes(this.config.versionTable)) return [];
    return (await this.query(selectSql(this.config.versionTable, await this.columns()))).map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[]): Promise<void> {
    await this.conn!.beginTransaction();
    try {
      for (const s of statements) await this.conn!.execute(s.sql, s.params as never);
      await this.conn!.commit();
    } catch (err) {
      await this.conn!.rollback();
      throw err;
    }
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    // The session lock is held for the whole run; checked anyway, as on PostgreSQL.
    if ((await this.query(`SELECT version FROM ${this.config.versionTable} LIMIT 1`)).length > 0) return false;
    await this.conn!.beginTransaction();
    try {
      for (const r of rows) await this.conn!.execute(insertSql(this.config.versionTable, () => '?'), rowValues(r));
      await this.conn!.commit();
      return true;
    } catch (err) {
      await this.conn!.rollback();
      throw err;
    }
  }

  async applyVersion(p: PendingVersion): Promise<ApplyOutcome> {
    const table = this.config.versionTable;
    const existing = (await this.query(`SELECT status, error FROM ${table} WHERE version = ?`, [p.version]))[0];
    if (existing?.status === 'complete') return 'already-applied';
    const hashes = p.statements.slice(0, p.resumeFrom).map((s) => statementHash(s.text));
    if (!existing) {
      const row: VersionRow = { ...p.row, status: 'failed', error: 'in progress (interrupted if this stays)', statementsApplied: 0, statementHashes: [] };
      await this.conn!.execute(insertSql(table, () => '?'), rowValues(row));
    }
    // A run killed between a DDL statement's own commit and its progress
    // record left "started" behind: that statement may or may not have run.
    let uncertain = String(existing?.error ?? '') === startedMarker(p.resumeFrom);
    const started = performance.now();
    for (const s of p.statements.slice(p.resumeFrom)) {
      hashes.push(statementHash(s.text));
      await this.runStatement(p, s, hashes, uncertain);
      uncertain = false;
    }
    for (const a of p.after) await this.conn!.query(a);
    const ms = Math.round(performance.now() - started);
    await this.conn!.execute(
      `UPDATE ${table} SET status = 'complete', error = NULL, checksum = ?, statements_total = ?, applied_at = ?, execution_ms = ?, tool_version = ? WHERE version = ?`,
      [p.row.checksum, p.statements.length, new Date().toISOString(), ms, p.row.toolVersion, p.version],
    );
    return 'applied';
  }

  /**
   * One statement, then its progress: in one transaction where InnoDB allows
   * it (DML). DDL commits on its own, so it is marked started first; if the
   * run is killed before the progress record, the next run knows that
   * statement is uncertain and accepts "already there" errors from it.
   */
  private async runStatement(p: PendingVersion, s: PendingVersion['statements'][number], hashes: string[], uncertain: boolean): Promise<void> {
    const c = this.conn!;
    const progress = `UPDATE ${this.config.versionTable} SET statements_applied = ?, statements_total = ?, statement_hashes = ?, error = NULL WHERE version = ?`;
    const atomic = TRANSACTIONAL.test(s.text);
    try {
      if (atomic) await c.beginTransaction();
      else await c.execute(`UPDATE ${this.config.versionTable} SET error = ? WHERE version = ?`, [startedMarker(s.index), p.version]);
      await c.query(s.text).catch((err) => {
        if (!(uncertain && ALREADY_THERE.has((err as { errno?: number }).errno ?? 0))) throw err;
      });
      await c.execute(progress, [s.index + 1, p.statements.length, JSON.stringify(hashes), p.version]);
      if (atomic) await c.commit();
    } catch (err) {
      if (atomic) await c.rollback().catch(() => {});
      const done = s.index === 0 ? 'no statement of this version is applied' : `statements 1 to ${s.index} of this version are applied and recorded`;
      const failed = statementFailed(p, s, err,
        `MySQL commits DDL as it goes: ${done}. Fix the cause and run glance-db sync again: it resumes at statement ${s.index + 1}.`);
      await c.execute(`UPDATE ${this.config.versionTable} SET status = 'failed', error = ? WHERE version = ?`, [failed.message.slice(0, 60000), p.version]).catch(() => {});
      throw failed;
    }
  }

  async close(): Promise<void> {
    await this.unlock().catch(() => {});
    await this.conn?.end().catch(() => {});
    this.conn = null;
  }
}

