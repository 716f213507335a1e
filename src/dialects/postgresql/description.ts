// PostgreSQL, through slonik: DDL is transactional, so a version and its
// row commit together or not at all.
import { serverTarget, type DialectDescription } from '../../core/driver/dialect.js';
import { overSocket } from '../../platform/tls.js';
import { pgDumpEnv } from '../../platform/tls-postgresql.js';

/** A word for a shell command line (a TLS file path with spaces). */
const quoted = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

const connection = (target: Parameters<typeof serverTarget>[0]) => {
  const t = serverTarget(target);
  return { t, conn: `-h ${t.socketPath ?? t.host} -p ${t.port} -U ${t.user}` };
};

export const postgresql: DialectDescription<'server'> = {
  kind: 'server',
  url: {
    schemes: ['postgresql', 'postgres', 'postgresql+psycopg2', 'postgresql+psycopg', 'postgresql+pg8000'],
    form: 'postgresql://USER:PASSWORD@HOST:PORT/DATABASE',
    spoken: 'postgresql:// (also postgres://, postgresql+psycopg2://)',
  },
  server: { defaultPort: 5432, defaultUser: 'postgres' },
  transactionalDdl: true,
  triggersSurviveDroppedColumn: true,
  split: {
    lineCommentNeedsSpace: false,
    hashComments: false,
    executableComments: false,
    nestedBlockComments: true,
    backslashEscapes: false,
    eStrings: true,
    doubleQuotedStrings: false,
    backtickIdentifiers: false,
    bracketIdentifiers: false,
    dollarQuotes: true,
    sessionTableLocks: false,
  },
  placeholders: '$n',
  nativeBooleans: true,
  // A sequential scan: the table's physical order.
  pythonReads: { intBooleans: false, associationOrder: (a) => `${a}.ctid`, itemOrder: (a) => `${a}.ctid` },
  returning: true,
  namedEnumTypes: true,
  text: { nul: false, typeBytes: {} },
  columnChanges: 'alter-column',
  writesBack: false,
  versionTable: {
    longText: 'TEXT',
    tableOptions: '',
    columnNamesSql: (table) =>
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${table}'`,
  },
  transactionalTableOptions: '',
  backup: {
    extension: 'dump',
    dump: {
      tools: ['pg_dump'],
      clientPackage: 'postgresql-client',
      passwordVariable: 'PGPASSWORD',
      // Custom format: pg_restore can restore it whole or in part.
      args: (t) => ['-Fc', '-h', t.socketPath ?? t.host, '-p', String(t.port), '-U', t.user, '-d', t.database],
      // The run's TLS settings, in libpq's variables (libpq itself ignores them over a Unix socket).
      env: (t) => (overSocket(t.host, t.socketPath) ? {} : pgDumpEnv(t.tls)),
    },
  },
  restore: {
    placeholder: 'BACKUP.dump',
    steps: (target, file) => {
      const { t, conn } = connection(target);
      // The URL's TLS settings, as pg_dump got them, where they are not libpq's defaults.
      const tls =
        overSocket(t.host, t.socketPath) || (t.tls.use === 'prefer' && !t.tls.verifyChain && !t.tls.certFile)
          ? []
          : [
              `Give the tools below the URL's TLS settings: export ${Object.entries(pgDumpEnv(t.tls))
                .filter(([, v]) => v !== undefined && !v.startsWith('/dev/null/'))
                .map(([k, v]) => `${k}=${quoted(v!)}`)
                .join(' ')}`,
            ];
      return [
        ...tls,
        `Recreate the database empty: dropdb ${conn} ${t.database} && createdb ${conn} ${t.database}`,
        `Restore the backup: pg_restore ${conn} -d ${t.database} --no-owner ${file}   (for a plain-SQL dump: psql ${conn} -d ${t.database} -1 -v ON_ERROR_STOP=1 -f BACKUP.sql)`,
      ];
    },
    passwordNote: 'The tools prompt for the password (or read PGPASSWORD / ~/.pgpass).',
  },
  script: {
    runWith: (database) => `psql -v ON_ERROR_STOP=1 -d ${database} -f this-file`,
    nowSql: `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
    selectWithoutTable: '',
    // One transaction (psql stops at the first error with ON_ERROR_STOP); the
    // check is a DO block raising an exception.
    opening: (p) => [
      'BEGIN;',
      `${p.createVersionTable};`,
      'DO $glance_db$',
      'DECLARE n int; nf int; nt int; na int := 0; nr int := 0; hm int; o int; st text;',
      'BEGIN',
      `  SELECT count(*), ${p.countFrom}, ${p.countTo} INTO n, nf, nt FROM ${p.table};`,
      `  IF to_regclass('alembic_version') IS NOT NULL THEN EXECUTE 'SELECT count(*), count(CASE WHEN version_num = ANY ($1) THEN 1 END) FROM alembic_version' INTO na, nr USING ARRAY[${p.list(p.revisions.length ? p.revisions : [''])}]::text[]; END IF;`,
      `  hm := CASE WHEN to_regclass('migrate_version') IS NULL THEN 0 ELSE 1 END;`,
      `  SELECT count(*) INTO o FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND ${p.others('table_name')};`,
      `  st := ${p.stateCase};`,
      `  IF st = 'done' THEN RAISE EXCEPTION '${p.alreadyRan} (it records versions up to ${p.to})'; END IF;`,
      `  IF st = 'other' THEN RAISE EXCEPTION '${p.wrongStart} (${p.start}); found % row(s) in ${p.table}', n; END IF;`,
      ...p.adoptRows().map((r) => `  IF st = 'adopt' THEN ${r}; END IF;`),
      'END $glance_db$;',
    ],
    closing: ['COMMIT;'],
  },
  snapshotArgs: ' --url EMPTY_SCRATCH_DATABASE',
  loadDriver: async (config) => (await import('./driver.js')).createServerDriver(config, postgresql),
  loadIntrospector: async () => {
    const m = await import('./introspect.js');
    return (q) => m.introspectPostgres(q);
  },
};
