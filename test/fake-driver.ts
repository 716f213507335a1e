// An in-memory driver that honours the contract of src/core/driver/driver.ts, so
// that src/app and src/core can be run without a database (test/engine-unit.test.ts).
// It keeps tables as names and columns, understands the few statements the
// unit tests' SQL files use (CREATE/DROP TABLE, ALTER TABLE ADD COLUMN,
// Glance's alembic_version bookkeeping), answers the SQLite introspection
// queries, and logs what the engine asks of it. A statement containing
// FAIL fails. With transactionalDdl false it behaves as MySQL does: DDL run
// with executeAlone() commits at once, and nothing rolls it back.
import type { Driver, RecordedState, RowUpdate, Tx, VersionRow, VersionTx } from '../src/core/driver/driver.js';

interface Column {
  name: string;
  type: string;
  notnull: boolean;
  pk: boolean;
}

interface Table {
  sql: string;
  columns: Column[];
}

interface State {
  tables: Map<string, Table>;
  alembic: string[] | null;
  rows: VersionRow[] | null;
}

/** An error a server gives with an errno (1050 table exists, 1060 duplicate column: MySQL's). */
class FakeSqlError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

const COLUMN_UPDATES: Record<keyof RowUpdate, keyof VersionRow> = {
  status: 'status',
  error: 'error',
  checksum: 'checksum',
  statements_applied: 'statementsApplied',
  statements_total: 'statementsTotal',
  statement_hashes: 'statementHashes',
  applied_at: 'appliedAt',
  execution_ms: 'executionMs',
  tool_version: 'toolVersion',
};

function copy(s: State): State {
  return {
    tables: new Map([...s.tables].map(([k, t]) => [k, { sql: t.sql, columns: t.columns.map((c) => ({ ...c })) }])),
    alembic: s.alembic && [...s.alembic],
    rows: s.rows && s.rows.map((r) => ({ ...r, added: { ...r.added } })),
  };
}

function parseColumns(body: string): Column[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of body) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  parts.push(cur.trim());
  return parts
    .filter((p) => !/^(constraint|primary|unique|check|foreign)\b/i.test(p))
    .map((p) => {
      const m = /^(\w+)\s+(\w+(?:\s*\([\d, ]+\))?)(.*)$/s.exec(p)!;
      return {
        name: m[1],
        type: m[2].toLowerCase().replace(/\s+/g, ''),
        notnull: /not null/i.test(m[3]),
        pk: /primary key/i.test(m[3]),
      };
    });
}

export class FakeDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  readonly interruptedOutcome = 'Nothing to say (fake driver).';
  state: State = { tables: new Map(), alembic: null, rows: null };
  /** What the engine did, in order: BEGIN, COMMIT, ROLLBACK, EXEC <sql>, ALONE <sql>, INSERT <version>, UPDATE <version> <columns>, RECORD <versions>. */
  readonly log: string[] = [];
  /** Called as each version transaction begins: a test makes a "concurrent run" act here. */
  beforeTransaction: () => void = () => {};
  locked = false;
  closed = false;
  private opened = false;

  constructor(
    readonly transactionalDdl = true,
    private readonly versionTable = 'glance_db_version',
  ) {}

  /** Runs SQL on the fake as another tool would (building a database by hand), outside any bookkeeping. */
  build(statements: string[]): this {
    for (const s of statements) this.apply(s);
    return this;
  }

  private apply(sql: string): void {
    const text = sql.trim();
    if (/FAIL/.test(text)) throw new Error(`fake failure: ${text.slice(0, 40)}`);
    let m = /^CREATE TABLE (IF NOT EXISTS )?(\w+)\s*\((.*)\)[^)]*$/is.exec(text);
    if (m) {
      if (this.state.tables.has(m[2]) || (m[2] === 'alembic_version' && this.state.alembic)) {
        if (m[1]) return;
        throw new FakeSqlError(`table ${m[2]} already exists`, 1050);
      }
      if (m[2] === 'alembic_version') this.state.alembic = [];
      else this.state.tables.set(m[2], { sql: text, columns: parseColumns(m[3]) });
      return;
    }
    if ((m = /^DROP TABLE (\w+)$/i.exec(text))) {
      if (!this.state.tables.delete(m[1])) throw new FakeSqlError(`no such table ${m[1]}`, 1051);
      return;
    }
    if ((m = /^ALTER TABLE (\w+) ADD COLUMN (\w+) (\w+)$/i.exec(text))) {
      const t = this.state.tables.get(m[1]);
      if (!t) throw new FakeSqlError(`no such table ${m[1]}`, 1146);
      if (t.columns.some((c) => c.name === m![2])) throw new FakeSqlError(`duplicate column ${m[2]}`, 1060);
      t.columns.push({ name: m[2], type: m[3].toLowerCase(), notnull: false, pk: false });
      return;
    }
    if (/^DELETE FROM alembic_version$/i.test(text)) {
      this.state.alembic = [];
      return;
    }
    if ((m = /^INSERT INTO alembic_version \(version_num\) VALUES \('([^']+)'\)$/i.exec(text))) {
      this.state.alembic = [...(this.state.alembic ?? []), m[1]];
      return;
    }
    // Data statements change nothing the engine looks at.
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  exists(): boolean {
    return this.opened;
  }

  async lock(): Promise<void> {
    this.locked = true;
  }

  async listTables(): Promise<string[]> {
    const names = [...this.state.tables.keys()];
    if (this.state.alembic) names.push('alembic_version');
    if (this.state.rows) names.push(this.versionTable);
    return names.sort();
  }

  async ensureVersionTable(): Promise<void> {
    this.state.rows ??= [];
  }

  async setNote(version: number, note: string): Promise<void> {
    const r = this.state.rows?.find((x) => x.version === version);
    if (r) r.note = note;
  }

  async readHistory(): Promise<VersionRow[]> {
    return copy(this.state).rows?.sort((a, b) => a.version - b.version) ?? [];
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    if (!this.state.rows) throw new Error('fake: no version table');
    if (this.state.rows.length > 0) return false;
    this.state.rows.push(...rows.map((r) => ({ ...r })));
    this.log.push(`RECORD ${rows.map((r) => `${r.version}:${r.kind}`).join(' ')}`);
    return true;
  }

  async versionTransaction<T>(fn: (tx: VersionTx) => Promise<T>): Promise<T> {
    this.beforeTransaction();
    const before = copy(this.state);
    const rows = () => {
      if (!this.state.rows) throw new Error('fake: no version table');
      return this.state.rows;
    };
    this.log.push('BEGIN');
    const tx: VersionTx = {
      execute: async (sql) => {
        this.log.push(`EXEC ${sql}`);
        this.apply(sql);
      },
      recorded: async (version) => {
        const r = rows().find((x) => x.version === version);
        return r ? ({ status: r.status, error: r.error } satisfies RecordedState) : null;
      },
      insertRow: async (row) => {
        if (rows().some((x) => x.version === row.version)) throw new Error(`fake: duplicate version ${row.version}`);
        rows().push({ ...row });
        this.log.push(`INSERT ${row.version}`);
      },
      deleteRow: async (version) => {
        const all = rows();
        all.splice(
          all.findIndex((x) => x.version === version),
          1,
        );
        this.log.push(`DELETE ${version}`);
      },
      updateRow: async (version, set) => {
        const r = rows().find((x) => x.version === version)!;
        for (const [col, value] of Object.entries(set) as [keyof RowUpdate, unknown][]) {
          (r as unknown as Record<string, unknown>)[COLUMN_UPDATES[col]] =
            col === 'statement_hashes' ? JSON.parse(String(value)) : value;
        }
        this.log.push(`UPDATE ${version} ${Object.keys(set).join(',')}`);
      },
    };
    try {
      const result = await fn(tx);
      this.log.push('COMMIT');
      return result;
    } catch (err) {
      // DDL that executeAlone() ran stays: only what this transaction did is undone.
      this.state = this.transactionalDdl
        ? before
        : { tables: this.state.tables, alembic: before.alembic, rows: before.rows };
      this.log.push('ROLLBACK');
      throw err;
    }
  }

  async executeAlone(sql: string): Promise<void> {
    if (this.transactionalDdl) throw new Error('fake: executeAlone on a transactional-DDL driver');
    this.log.push(`ALONE ${sql}`);
    this.apply(sql);
  }

  stopsRun(): boolean {
    return false;
  }

  alreadyThere(err: unknown): boolean {
    return [1050, 1060].includes((err as { errno?: number }).errno ?? 0);
  }

  async editHistory(): Promise<boolean> {
    throw new Error('fake: editHistory is not used by sync');
  }

  /** The SQLite introspection queries (src/dialects/sqlite/introspect.ts) and Glance's alembic_version. */
  query = async (sql: string): Promise<Record<string, unknown>[]> => {
    let m: RegExpExecArray | null;
    if (/FROM sqlite_master/.test(sql))
      return [...this.state.tables]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, t]) => ({ type: 'table', name, tbl_name: name, sql: t.sql }));
    if ((m = /^PRAGMA table_info\("(\w+)"\)$/.exec(sql))) {
      return (this.state.tables.get(m[1])?.columns ?? []).map((c) => ({
        name: c.name,
        type: c.type,
        notnull: c.notnull ? 1 : 0,
        pk: c.pk ? 1 : 0,
        dflt_value: null,
      }));
    }
    if (/^PRAGMA (index_list|foreign_key_list)/.test(sql)) return [];
    if (/^SELECT version_num FROM alembic_version/.test(sql))
      return (this.state.alembic ?? []).sort().map((v) => ({ version_num: v }));
    throw new Error(`fake: no answer for ${sql}`);
  };

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return fn({ query: this.query, run: async () => 0 });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.locked = false;
    this.closed = true;
  }
}
