// MySQL and MariaDB, through mysql2. DDL commits implicitly, statement by
// statement: a version's row records progress after every statement, and a
// version that failed half way resumes where it stopped.
import { spawnSync } from 'node:child_process';
import { serverTarget, type DialectDescription } from '../../core/driver/dialect.js';
import { mysqlDumpTlsArgs } from '../../platform/tls-mysql.js';

/** A word for a shell command line (a TLS file path with spaces). */
const quoted = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);

/** Whether a dump tool is MariaDB's (mysqldump is often a link to mariadb-dump): their TLS options differ. */
function isMariadbTool(tool: string): boolean {
  if (/mariadb/.test(tool)) return true;
  return /MariaDB/i.test(spawnSync(tool, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '');
}

export const mysql: DialectDescription<'server'> = {
  kind: 'server',
  url: {
    schemes: ['mysql', 'mariadb', 'mysql+pymysql', 'mysql+mysqldb', 'mysql+mysqlconnector', 'mariadb+pymysql'],
    form: 'mysql://USER:PASSWORD@HOST:PORT/DATABASE',
    spoken: 'mysql:// (also mariadb://, mysql+pymysql://)',
  },
  server: { defaultPort: 3306, defaultUser: 'root' },
  transactionalDdl: false,
  // Loaded when a data batch runs, not when the CLI starts.
  retryConflicts: async (run) => (await import('./galera.js')).retryCertification(run, async () => {}),
  triggersSurviveDroppedColumn: true,
  split: {
    lineCommentNeedsSpace: true,
    hashComments: true,
    executableComments: true,
    nestedBlockComments: false,
    backslashEscapes: true,
    eStrings: false,
    doubleQuotedStrings: true,
    backtickIdentifiers: true,
    bracketIdentifiers: false,
    dollarQuotes: false,
    sessionTableLocks: true,
  },
  placeholders: '?',
  nativeBooleans: false,
  // InnoDB: by the index on namespace_id (then the key), and by the unique index on (namespace_id, name).
  pythonReads: {
    intBooleans: true,
    associationOrder: (a) => `${a}.resource_type_id`,
    itemOrder: (a) => `${a}.name`,
  },
  returning: false,
  namedEnumTypes: false,
  text: { nul: true, typeBytes: { tinytext: 255, text: 65_535, mediumtext: 16_777_215, longtext: 4_294_967_295 } },
  columnChanges: 'modify-column',
  writesBack: false,
  versionTable: {
    longText: 'LONGTEXT',
    tableOptions: ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    columnNamesSql: (table) =>
      `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`,
  },
  transactionalTableOptions: ' ENGINE=InnoDB',
  backup: {
    extension: 'sql',
    dump: {
      tools: ['mariadb-dump', 'mysqldump'],
      clientPackage: 'mariadb-client',
      passwordVariable: 'MYSQL_PWD',
      args: (t, tool) => {
        const where = t.socketPath ? ['-S', t.socketPath] : ['-h', t.host, '-P', String(t.port)];
        return [
          '--single-transaction',
          '--routines',
          '--triggers',
          ...mysqlDumpTlsArgs(t.tls, isMariadbTool(tool)),
          ...where,
          '-u',
          t.user,
          t.database,
        ];
      },
    },
  },
  restore: {
    placeholder: 'BACKUP.sql',
    steps: (target, file) => {
      const t = serverTarget(target);
      // The URL's TLS settings, as the dump tool got them (MariaDB's client's options).
      const tls = t.tls.use === 'disable' ? '' : `${mysqlDumpTlsArgs(t.tls, true).map(quoted).join(' ')} `;
      const conn = t.socketPath
        ? `${tls}-S ${t.socketPath} -u ${t.user} -p`
        : `${tls}-h ${t.host} -P ${t.port} -u ${t.user} -p`;
      return [
        `Recreate the database empty: mysql ${conn} -e 'DROP DATABASE \`${t.database}\`; CREATE DATABASE \`${t.database}\` CHARACTER SET utf8'`,
        `Restore the backup: mysql ${conn} ${t.database} < ${file}`,
      ];
    },
    passwordNote: '-p makes mysql prompt for the password.',
  },
  script: {
    runWith: (database) => `mariadb ${database} < this-file`,
    nowSql: "CONCAT(SUBSTRING(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%f'), 1, 23), 'Z')",
    selectWithoutTable: ' FROM DUAL',
    // DDL commits implicitly, so there is no transaction to roll back: the
    // check runs first and only reads (information_schema, prepared
    // statements, no stored program), then a temporary table's CHECK
    // constraints stop the client (mariadb/mysql stop at the first error
    // unless --force).
    opening: (p) => {
      const v = (name: string) => `@glance_db_${name}`;
      const exists = (name: string) =>
        `(SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${p.literal(name)})`;
      const counts = `SELECT COUNT(*), ${p.countFrom}, ${p.countTo} INTO ${v('n')}, ${v('nf')}, ${v('nt')} FROM ${p.table}`;
      const alembic = `SELECT COUNT(*), ${p.countRevisions} INTO ${v('na')}, ${v('nr')} FROM alembic_version`;
      const prepared = (name: string, existsVar: string, query: string, none: string) => [
        `SET ${v('q')} := IF(${existsVar} = 1, ${p.literal(query)}, ${p.literal(none)});`,
        `PREPARE glance_db_${name} FROM ${v('q')};`,
        `EXECUTE glance_db_${name};`,
        `DEALLOCATE PREPARE glance_db_${name};`,
      ];
      return [
        `SET ${v('t')} := ${exists(p.table)}, ${v('a')} := ${exists('alembic_version')}, ${v('hm')} := ${exists('migrate_version')};`,
        `SET ${v('o')} := (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND ${p.others('TABLE_NAME')});`,
        ...prepared('counts', v('t'), counts, `SELECT 0, 0, 0 INTO ${v('n')}, ${v('nf')}, ${v('nt')}`),
        ...prepared('alembic', v('a'), alembic, `SELECT 0, 0 INTO ${v('na')}, ${v('nr')}`),
        `SET ${v('state')} := (SELECT ${p.stateCase} FROM (SELECT ${['n', 'nf', 'nt', 'na', 'nr', 'hm', 'o'].map((x) => `${v(x)} AS ${x}`).join(', ')}) AS s);`,
        // MySQL limits constraint names to 64 characters.
        `CREATE TEMPORARY TABLE glance_db_script_guard (state VARCHAR(16) NOT NULL, CONSTRAINT \`glance-db: this script already ran here; nothing changed\` CHECK (state <> 'done'), CONSTRAINT \`glance-db: database not at the state this script starts from\` CHECK (state <> 'other'));`,
        `INSERT INTO glance_db_script_guard (state) VALUES (${v('state')});`,
        `${p.createVersionTable};`,
        ...p.adoptIf(`${v('state')} = 'adopt'`).map((s) => `${s};`),
      ];
    },
    closing: ['DROP TEMPORARY TABLE glance_db_script_guard;'],
  },
  snapshotArgs: ' --url EMPTY_SCRATCH_DATABASE',
  loadDriver: async (config) => (await import('./driver.js')).createServerDriver(config, mysql),
  loadIntrospector: async () => {
    const m = await import('./introspect.js');
    return async (q) => m.introspectMysql(q, String((await q('SELECT DATABASE() AS db'))[0].db));
  },
};
