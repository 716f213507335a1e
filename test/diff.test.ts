import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/introspect/diff.js';
import type { SchemaModel, TableModel } from '../src/introspect/model.js';
import { positionInFile } from '../src/drivers/failure.js';

const table = (over: Partial<TableModel> = {}): TableModel => ({
  name: 'images',
  columns: {
    id: { name: 'id', type: 'varchar(36)', nullable: false, default: null },
    status: { name: 'status', type: 'varchar(30)', nullable: false, default: "'active'" },
  },
  primaryKey: ['id'],
  uniques: [],
  indexes: [{ name: 'ix_images_status', columns: ['status'], unique: false }],
  foreignKeys: [],
  checks: [],
  options: {},
  ...over,
});
const schema = (t: TableModel, extra: Partial<SchemaModel> = {}): SchemaModel => ({ dialect: 'sqlite', tables: { [t.name]: t }, enums: {}, ...extra });

test('identical models have no difference', () => {
  assert.equal(diffSchemas(schema(table()), schema(table())), []);
});

test('every kind of difference is named', () => {
  const actual = table({
    columns: {
      id: { name: 'id', type: 'varchar(40)', nullable: true, default: null },
      extra: { name: 'extra', type: 'integer', nullable: true, default: null },
    },
    indexes: [],
    checks: ['deleted in (0, 1)'],
    options: { engine: 'MyISAM' },
  });
  assert.equal(diffSchemas(schema(table({ options: { engine: 'InnoDB' } })), schema(actual)), [
    'images.id: type is varchar(40), expected varchar(36)',
    'images.id: is NULL, expected NOT NULL',
    'images: missing column status varchar(30)',
    'images: unexpected column extra integer',
    'images: missing index ix_images_status(status)',
    'images: unexpected check constraint CHECK (deleted in (0, 1))',
    'images: engine is MyISAM, expected InnoDB',
  ]);
});

test('missing and unexpected tables, ignored tables, enums', () => {
  const e = schema(table(), { enums: { image_visibility: ['private', 'public'] } });
  const a: SchemaModel = { dialect: 'sqlite', tables: { other: table({ name: 'other' }), glance_db_version: table({ name: 'glance_db_version' }) }, enums: {} };
  assert.equal(diffSchemas(e, a, { ignoreTables: ['glance_db_version'] }), ['missing table images', 'unexpected table other', 'missing enum type image_visibility']);
});

test('a server error position inside a statement becomes file line:column', () => {
  const s = { index: 1, text: 'INSERT INTO x\n  VALUES (oops)', line: 4, column: 3, offset: 40 };
  assert.equal(positionInFile(s), { line: 4, column: 3 });
  assert.equal(positionInFile(s, 8), { line: 4, column: 10 });
  assert.equal(positionInFile(s, 25), { line: 5, column: 11 });
});


test('a MySQL text column in another collation than its table is named; a table-wide change is named once', () => {
  const mysql = (collation: string, col?: string) => table({ options: { engine: 'InnoDB', collation }, columns: { ...table().columns, status: { ...table().columns.status, ...(col ? { collation: col } : {}) } } });
  assert.equal(diffSchemas(schema(mysql('utf8mb3_general_ci')), schema(mysql('utf8mb3_general_ci', 'utf8mb4_bin'))), ['images.status: character set/collation is utf8mb4_bin, expected utf8mb3_general_ci']);
  assert.equal(diffSchemas(schema(mysql('utf8mb3_general_ci')), schema(mysql('utf8mb4_general_ci', 'utf8mb3_general_ci'))), ['images: collation is utf8mb4_general_ci, expected utf8mb3_general_ci']);
});

test('variants: a catalogue entry explains differences only if it allows every one; the most specific wins', async () => {
  const { matchVariant, allows } = await import('../src/glance/variants.js');
  assert.ok(allows('*: missing check constraint CHECK (*)', 'tasks: missing check constraint CHECK (deleted in (0,1))'));
  assert.not.ok(allows('images.size: type is bigint, expected integer', 'images.size: type is bigint, expected integerx'));
  assert.is(matchVariant('mysql', ['images: missing check constraint CHECK (protected in (0,1))'])?.id, 'legacy-born-mysql');
  assert.is(matchVariant('mysql', ['images: missing check constraint CHECK (protected in (0,1))', 'tasks: missing check constraint CHECK (deleted in (0,1))'])?.id, 'mysql-without-checks');
  assert.is(matchVariant('mysql', ['images: missing check constraint CHECK (protected in (0,1))', 'images: unexpected index handmade_idx(name)']), null);
  assert.is(matchVariant('postgresql', ['images: missing check constraint CHECK (protected in (0,1))']), null);
  assert.is(matchVariant('sqlite', []), null);
});

test.run();
