// Issue 31, item 3: on Galera every ALTER TABLE runs under Total Order
// Isolation and every other node's commits wait for it, so an ALTER that
// rebuilds `images` at 1,000,000 images stalls the whole cluster. Each DDL
// in sql/mysql that MariaDB can run without a table rebuild is written so:
// ALGORITHM=INSTANT where MariaDB (and MySQL 8) change only metadata,
// ALGORITHM=INPLACE, LOCK=NONE for an index build (MariaDB's NOCOPY class;
// NOCOPY itself is MariaDB-only syntax). 47, 48 and 50 used to add columns
// and an index in one ALTER, which MariaDB runs as a rebuild; they are now
// two ALTERs, a fix to released files recorded in sql/checksums.lock as
// superseding the old checksums, so databases that ran the old files stay
// valid.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksumOf } from '../src/platform/checksum.js';
import { splitStatements } from '../src/core/sql/split.js';
import { mysqlEnv, withDb, type TestDb } from './dialects.js';
import { cli, LATEST, makeProject, removeProject, ROOT } from './helpers.js';

const FIXED = ['047_add_os_hidden.sql', '048_add_os_hash.sql', '050_add_tasks_image_request_user.sql'];
const OLD = (f: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'superseded', 'mysql', f), 'utf8');

// The ALTERs that must rebuild the table: each changes a column's NULL-ness,
// which MariaDB 10.11 cannot do in place (ALGORITHM=INSTANT and NOCOPY are
// refused, checked below). Whatever else they do rides on that one rebuild.
const REBUILDS = new Set([
  '045_add_visibility.sql#3', // MODIFY visibility NOT NULL
  '045_add_visibility.expand.sql#1', // MODIFY is_public NULL
  '045_add_visibility.contract.sql#3', // MODIFY visibility NOT NULL
]);
// Already instant by MariaDB's default, and left without the clause: a 45 that
// failed on its UPDATE records this statement's hash, and a changed
// statement would refuse to resume (exit 4).
const INSTANT_BY_DEFAULT = new Set(['045_add_visibility.sql#1']);

const mysqlFiles = () => readdirSync(join(ROOT, 'sql', 'mysql')).filter((f) => /^0(4[5-9]|5\d)_.*\.sql$/.test(f));
/** The ALTER TABLE statements of a file, numbered from 1 among all its statements. */
const alters = (file: string) =>
  splitStatements(readFileSync(join(ROOT, 'sql', 'mysql', file), 'utf8'), 'mysql')
    .map((s, i) => ({ key: `${file}#${i + 1}`, text: s.text }))
    .filter((s) => /^ALTER TABLE\b/i.test(s.text));

async function refused(db: TestDb, sql: string): Promise<boolean> {
  try {
    await db.exec(`${sql};`);
    return false;
  } catch (e) {
    assert.match(String(e), /ERROR 184[56]/, `${sql}: ${e}`); // ALGORITHM=... is not supported
    return true;
  }
}

test('every ALTER TABLE in sql/mysql from 45 on runs without a table rebuild where MariaDB can: INSTANT where written, an index build MariaDB accepts as NOCOPY, and only the listed column changes rebuild', async () => {
  if (!mysqlEnv.available()) return console.log('  SKIP: mysql not reachable');
  // Two walks from 44: the offline files (sync), and 45's phases (sync on Galera).
  const main = mysqlFiles().filter((f) => !/\.(expand|migrate|contract)\.sql$/.test(f));
  const phases = ['045_add_visibility.expand.sql', '045_add_visibility.contract.sql'];
  const walks = [main, [...phases, ...main.filter((f) => !f.startsWith('045_'))]];
  const seen = new Set<string>();
  for (const files of walks) {
    await withDb(mysqlEnv, async (db) => {
      assert.is(cli(['sync', '44', '--url', db.url]).code, 0);
      // Empty copies: MariaDB picks the algorithm from the operation, not the row count.
      await db.exec('CREATE TABLE p_images LIKE images; CREATE TABLE p_tasks LIKE tasks;');
      for (const file of files) {
        for (const { key, text } of alters(file)) {
          seen.add(key);
          const sql = text.replace(/^ALTER TABLE (images|tasks)\b/i, 'ALTER TABLE p_$1');
          assert.ok(sql !== text, `${key}: an ALTER of a table this test does not copy: ${text}`);
          const algorithm = /\bALGORITHM\s*=\s*(\w+)/i.exec(sql)?.[1]?.toUpperCase();
          if (algorithm === 'INSTANT') {
            await db.exec(`${sql};`); // refused (exit) if MariaDB could not
          } else if (algorithm === 'INPLACE') {
            assert.match(sql, /\bLOCK\s*=\s*NONE\b/i, key);
            assert.ok(
              await refused(db, sql.replace(/ALGORITHM\s*=\s*INPLACE/i, 'ALGORITHM=INSTANT')),
              `${key} could be INSTANT`,
            );
            await db.exec(`${sql.replace(/ALGORITHM\s*=\s*INPLACE/i, 'ALGORITHM=NOCOPY')};`);
          } else {
            assert.is(algorithm, undefined, `${key}: ALGORITHM=${algorithm}`);
            if (INSTANT_BY_DEFAULT.has(key)) {
              await db.exec(`${sql}, ALGORITHM=INSTANT;`);
              continue;
            }
            assert.ok(REBUILDS.has(key), `${key} rebuilds the table without being one of the listed rebuilds: ${text}`);
            assert.ok(await refused(db, `${sql}, ALGORITHM=NOCOPY`), `${key} could run without a rebuild`);
            await db.exec(`${sql};`);
          }
        }
      }
    });
  }
  for (const key of [...REBUILDS, ...INSTANT_BY_DEFAULT]) assert.ok(seen.has(key), `${key} is no longer an ALTER`);
});

test('a database upgraded to the newest version with the old 47, 48 and 50 is valid with the new files (no drift, exit 0) and history says superseded; without the lock lines it is exit 4', async () => {
  if (!mysqlEnv.available()) return console.log('  SKIP: mysql not reachable');
  const lock = readFileSync(join(ROOT, 'sql', 'checksums.lock'), 'utf8');
  for (const f of FIXED) {
    const v = f.slice(0, 3);
    const now = checksumOf(readFileSync(join(ROOT, 'sql', 'mysql', f)));
    assert.match(lock, `superseded ${v} mysql ${checksumOf(Buffer.from(OLD(f)))} by ${now}`);
  }
  const before = makeProject(Object.fromEntries(FIXED.map((f) => [`sql/mysql/${f}`, OLD(f)])));
  try {
    await withDb(mysqlEnv, async (db) => {
      const run = (args: string[], cwd?: string) => cli([...args, '--url', db.url], cwd ? { cwd } : {});
      assert.is(run(['sync', String(LATEST)], before).code, 0);
      for (const args of [['check'], ['verify'], ['version'], ['sync', String(LATEST)], ['plan']]) {
        const r = run(args);
        assert.is(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      }
      const h = JSON.parse(run(['history', '--json']).stdout).versions as {
        version: number;
        file: string;
      }[];
      assert.equal(
        h.filter((v) => [47, 48, 50].includes(v.version)).map((v) => v.file),
        ['superseded', 'superseded', 'superseded'],
      );
      // The same new files without the superseded lines: changed released files.
      for (const f of FIXED)
        writeFileSync(join(before, 'sql', 'mysql', f), readFileSync(join(ROOT, 'sql', 'mysql', f)));
      rmSync(join(before, 'sql', 'checksums.lock'));
      const r = run(['check'], before);
      assert.is(r.code, 4, r.stdout + r.stderr);
    });
  } finally {
    removeProject(before);
  }
});

test.run();
