// Finishing Ocata's visibility change when a rolling upgrade stopped half
// way: ocata_expand01 added images.visibility (nullable, no default; on
// MySQL with two triggers), but ocata_migrate01 and ocata_contract01 did not
// run, or a newer Glance's contract dropped is_public and then failed.
// The statements are computed from the live schema: glance-db's 045 file
// assumes the version-44 images table, which this state no longer has.
//
// Visibility, by Glance's rule (docs/glance-versions.md) from the data as it
// stands, for the rows whose visibility is still NULL: `public` if is_public
// is true, else `shared` with an image_members row not deleted, else
// `private` (without is_public, gone with Glance's failed contract, the
// public flag is lost: `shared` or `private`). A row the new code already
// gave a visibility keeps it: a `private` image with members is not made
// `shared` (issue 32: the new release writes `private` on purpose, and
// re-sharing would give its members access again).
import { describeDialect, type Dialect } from '../core/driver/dialect.js';
import type { SchemaModel, TableModel } from '../core/introspect/model.js';
import { glanceOcataTriggers } from './ocata-triggers.js';
import { statementHash } from '../platform/checksum.js';

export interface OcataFinish {
  statements: string[];
  /** is_public was still there, so public images were told from private ones. */
  fromIsPublic: boolean;
}

const ENUM = "enum('private','public','shared','community')";

/**
 * `beforeAlter`: the statements as they were computed before the last one (MySQL's ALTER, which drops is_public
 * and its index) ran, for a finish resumed after it (finishOcataResumed).
 */
export function finishOcata(
  dialect: Dialect,
  live: SchemaModel,
  target: SchemaModel,
  beforeAlter = false,
): OcataFinish {
  const images = live.tables.images;
  const hasIsPublic = beforeAlter || 'is_public' in images.columns;
  const d = describeDialect(dialect);
  const isTrue = (col: string) => (d.nativeBooleans ? col : `${col} = 1`);
  const memberLive = d.nativeBooleans ? 'NOT m.deleted' : 'm.deleted = 0';
  const cast = (v: string) => (d.namedEnumTypes ? `'${v}'::image_visibility` : `'${v}'`);
  const member = `EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND ${memberLive})`;
  const fill = `CASE${hasIsPublic ? ` WHEN ${isTrue('i.is_public')} THEN ${cast('public')}` : ''} WHEN ${member} THEN ${cast('shared')} ELSE ${cast('private')} END`;
  if (d.columnChanges === 'rebuild-table')
    return { statements: rebuildImages(images, target.tables.images, fill), fromIsPublic: hasIsPublic };
  // The triggers (MySQL's) refer to is_public: gone first, before any row changes.
  const out = glanceOcataTriggers(dialect).map((t) => `DROP TRIGGER IF EXISTS ${t}`);
  // MySQL cannot read the updated table in a subquery; the members table is another table.
  out.push(`UPDATE images i SET visibility = ${fill} WHERE i.visibility IS NULL`);
  if (d.columnChanges === 'alter-column') {
    // Dropping the column drops its index with it.
    out.push(
      "ALTER TABLE images ALTER COLUMN visibility SET DEFAULT 'shared'",
      'ALTER TABLE images ALTER COLUMN visibility SET NOT NULL',
    );
    if (hasIsPublic) out.push('ALTER TABLE images DROP COLUMN is_public');
  } else {
    // MODIFY restates the whole column (MySQL's enum visibility).
    const parts = [`MODIFY visibility ${ENUM} NOT NULL DEFAULT 'shared'`];
    if (beforeAlter || images.indexes.some((i) => i.name === 'ix_images_is_public'))
      parts.push('DROP INDEX ix_images_is_public');
    if (hasIsPublic) parts.push('DROP COLUMN is_public');
    out.push(`ALTER TABLE images ${parts.join(', ')}`);
  }
  return { statements: out, fromIsPublic: hasIsPublic };
}

/**
 * A finish that stopped half way on MySQL (DDL commits as it goes), computed
 * again to be resumed: the statements that ran (`ran`, their hashes, as the
 * version table records them) must come out the same. A run killed after
 * the ALTER that drops is_public committed, before its progress was
 * recorded, leaves a schema without is_public, from which the UPDATE before
 * it would come out without the public flag: then the statements as they
 * were before that ALTER are the ones resumed (and the ALTER, which had
 * started, is accepted as already done: its column and index are gone).
 */
export function finishOcataResumed(
  dialect: Dialect,
  live: SchemaModel,
  target: SchemaModel,
  ran: string[],
): OcataFinish {
  const now = finishOcata(dialect, live, target);
  if (ran.length === 0 || now.fromIsPublic) return now;
  const same = (f: OcataFinish) =>
    ran.every((h, i) => f.statements[i] !== undefined && statementHash(f.statements[i]) === h);
  const before = finishOcata(dialect, live, target, true);
  return !same(now) && same(before) ? before : now;
}

/** Where a column with an index cannot be dropped nor its nullability changed (SQLite): rebuild images in the target version's form. */
function rebuildImages(live: TableModel, target: TableModel, fill: string): string[] {
  const cols = Object.values(target.columns);
  const defs = cols.map(
    (c) =>
      `\t${c.name} ${c.type.toUpperCase()}${c.default !== null ? ` DEFAULT ${c.default}` : ''}${c.nullable ? '' : ' NOT NULL'}`,
  );
  const body = [...defs, `\tPRIMARY KEY (${target.primaryKey.join(', ')})`];
  for (const u of target.uniques)
    body.push(`\t${u.name ? `CONSTRAINT ${u.name} ` : ''}UNIQUE (${u.columns.join(', ')})`);
  for (const f of target.foreignKeys)
    body.push(`\tFOREIGN KEY (${f.columns.join(', ')}) REFERENCES ${f.refTable} (${f.refColumns.join(', ')})`);
  for (const c of target.checks) body.push(`\tCHECK (${c})`);
  const copied = cols.filter((c) => c.name in live.columns);
  const value = (name: string) => {
    return name === 'visibility' ? `COALESCE(i.visibility, ${fill})` : `i.${name}`;
  };
  return [
    `CREATE TABLE images_v45 (\n${body.join(',\n')}\n)`,
    `INSERT INTO images_v45 (${copied.map((c) => c.name).join(', ')})\nSELECT ${copied.map((c) => value(c.name)).join(', ')}\n  FROM images i`,
    'DROP TABLE images',
    'ALTER TABLE images_v45 RENAME TO images',
    ...target.indexes.map(
      (i) => `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${i.name} ON images (${i.columns.join(', ')})`,
    ),
  ];
}
