// After every version glance-db applies, Glance's own bookkeeping is set to
// the same level, in the same transaction: alembic_version (created if
// absent) to the revision that version equals, and migrate_version too if
// the database still has it. So `glance-manage db version` and `db check`
// agree with glance-db, and glance-manage could take the database back.
import { describeDialect, type Dialect } from '../core/driver/dialect.js';
import { contractRevisionFor, legacyNumber } from './revisions.js';
import { installedContractHead } from './installed.js';

/** alembic_version as Alembic creates it in that dialect: a plain table that takes part in transactions. */
export function createAlembicVersionSql(dialect: Dialect): string {
  return `CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))${describeDialect(dialect).transactionalTableOptions}`;
}

export function bookkeepingStatements(version: number, dialect: Dialect, hasMigrateVersion: boolean): string[] {
  // As the installed Glance's glance-manage holds it at that version (2023_1_contract01 at 50 for 2023.1 and 2023.2).
  const revision = contractRevisionFor(version, installedContractHead());
  if (!revision) return [];
  const out = [
    createAlembicVersionSql(dialect),
    'DELETE FROM alembic_version',
    `INSERT INTO alembic_version (version_num) VALUES ('${revision}')`,
  ];
  // The legacy numbering stopped where Glance moved to Alembic (Ocata); past it migrate_version keeps its last number.
  if (hasMigrateVersion) out.push(`UPDATE migrate_version SET version = ${legacyNumber(version)}`);
  return out;
}
