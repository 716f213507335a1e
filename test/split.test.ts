// Golden files for the statement splitter (Atlas keeps its lexer honest the
// same way): test/golden/split/<case>.<dialect>.sql is split and compared
// with <case>.<dialect>.json. UPDATE_GOLDEN=1 rewrites the .json files;
// read every rewritten file before committing it. A statement a version file
// may not hold (transaction control, src/core/sql/split.ts transactionControl)
// carries `refused` in the golden file; every other statement must not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The registry, loaded as the CLI loads it: it hands the splitter each dialect's rules (describeDialect).
import '../src/dialects/index.js';
import type { Dialect } from '../src/dialects/index.js';
import { lineColumnAt, splitStatements, transactionControl } from '../src/core/sql/split.js';

const dir = fileURLToPath(new URL('../../test/golden/split/', import.meta.url));

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.sql'))
  .sort()) {
  const [, dialect] = /\.(sqlite|postgresql|mysql)\.sql$/.exec(file) ?? [];
  test(`split golden: ${file}`, () => {
    const got = splitStatements(readFileSync(join(dir, file), 'utf8'), dialect as Dialect).map(
      ({ index, line, column, text }) => {
        const refused = transactionControl(text, dialect as Dialect);
        return { index, line, column, text, ...(refused ? { refused } : {}) };
      },
    );
    const golden = join(dir, file.replace(/\.sql$/, '.json'));
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, `${JSON.stringify(got, null, 2)}\n`);
    assert.equal(got, JSON.parse(readFileSync(golden, 'utf8')));
  });
}

test('lineColumnAt counts lines and columns from 1', () => {
  assert.equal(lineColumnAt('ab\ncd\r\nef', 0), { line: 1, column: 1 });
  assert.equal(lineColumnAt('ab\ncd\r\nef', 4), { line: 2, column: 2 });
  assert.equal(lineColumnAt('ab\ncd\r\nef', 7), { line: 3, column: 1 });
});

test('unterminated strings, comments and dollar quotes are errors naming where they start', () => {
  const cases: [string, Dialect, string][] = [
    ["SELECT 1;\nSELECT 'abc", 'sqlite', 'unterminated string starting at line 2, column 8'],
    ['SELECT 1; /* open', 'mysql', 'unterminated comment starting at line 1, column 11'],
    ['SELECT $x$ never closed', 'postgresql', 'unterminated dollar-quoted string starting at line 1, column 8'],
    ['SELECT "abc', 'postgresql', 'unterminated quoted identifier starting at line 1, column 8'],
  ];
  for (const [sql, dialect, message] of cases)
    assert.throws(
      () => splitStatements(sql, dialect),
      (e: Error) => e.message === message,
    );
});

test('a large file splits in linear time', () => {
  const sql = "INSERT INTO t VALUES (1, 'a;b'); -- c\n".repeat(100_000);
  assert.is(splitStatements(sql, 'mysql').length, 100_000);
});

test.run();
