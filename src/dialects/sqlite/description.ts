// SQLite, through sql.js (SQLite compiled to WebAssembly, no native module):
// a file next to the application, DDL inside transactions.
import { fileTarget, type DialectDescription } from '../../core/driver/dialect.js';

export const sqlite: DialectDescription<'file'> = {
  kind: 'file',
  url: { schemes: ['sqlite'], form: 'sqlite:PATH', spoken: 'sqlite:PATH' },
  server: null,
  transactionalDdl: true,
  triggersSurviveDroppedColumn: false,
  split: {
    lineCommentNeedsSpace: false,
    hashComments: false,
    executableComments: false,
    nestedBlockComments: false,
    backslashEscapes: false,
    eStrings: false,
    doubleQuotedStrings: false,
    backtickIdentifiers: true,
    bracketIdentifiers: true,
    dollarQuotes: false,
    sessionTableLocks: false,
  },
  placeholders: '?',
  nativeBooleans: false,
  // The index on namespace_id (then rowid), and the unique index on (namespace_id, name).
  pythonReads: { intBooleans: false, associationOrder: (a) => `${a}.rowid`, itemOrder: (a) => `${a}.name` },
  returning: true,
  namedEnumTypes: false,
  text: { nul: true, typeBytes: {} },
  columnChanges: 'rebuild-table',
  writesBack: true,
  versionTable: {
    longText: 'TEXT',
    tableOptions: '',
    columnNamesSql: (table) => `SELECT name FROM pragma_table_info('${table}')`,
  },
  transactionalTableOptions: '',
  backup: { extension: 'sqlite', dump: null },
  restore: {
    placeholder: '/path/to/backup-taken-before-the-upgrade.sqlite',
    steps: (target, file) => {
      const { path } = fileTarget(target);
      return [`Put the backed-up file back in place: cp ${file} ${path} && rm -f ${path}.lock`];
    },
    passwordNote: '',
  },
  script: {
    runWith: (database) => `sqlite3 ${database}.sqlite < this-file`,
    nowSql: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    selectWithoutTable: '',
    // `.bail on` stops the sqlite3 shell at the first error, and the whole
    // script is one transaction, so nothing commits after a failure. The
    // check is a temporary table whose CHECK constraints carry the messages.
    opening: (p) => [
      '.bail on',
      'BEGIN IMMEDIATE;',
      `${p.createVersionTable};`,
      ...(p.fromVersion ? [`${p.createAlembicVersion};`] : []),
      `CREATE TEMP TABLE glance_db_script_guard (state TEXT NOT NULL, CONSTRAINT "${p.alreadyRan}" CHECK (state <> 'done'), CONSTRAINT "${p.wrongStart} (${p.start.replace(/"/g, '')})" CHECK (state <> 'other'));`,
      `INSERT INTO temp.glance_db_script_guard (state) SELECT ${p.stateCase} FROM (SELECT ` +
        `(SELECT count(*) FROM ${p.table}) AS n, (SELECT ${p.countFrom} FROM ${p.table}) AS nf, (SELECT ${p.countTo} FROM ${p.table}) AS nt, ` +
        (p.fromVersion
          ? `(SELECT count(*) FROM alembic_version) AS na, (SELECT ${p.countRevisions} FROM alembic_version) AS nr, `
          : '0 AS na, 0 AS nr, ') +
        `(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'migrate_version') AS hm, ` +
        `(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND ${p.others('name')}) AS o) AS s;`,
      ...p.adoptIf("(SELECT state FROM temp.glance_db_script_guard) = 'adopt'").map((s) => `${s};`),
    ],
    closing: ['DROP TABLE temp.glance_db_script_guard;', 'COMMIT;'],
  },
  snapshotArgs: '',
  loadDriver: async (config) => new (await import('./driver.js')).SqliteDriver(config, sqlite),
  loadIntrospector: async () => {
    const m = await import('./introspect.js');
    return (q) => m.introspectSqlite(q);
  },
};
