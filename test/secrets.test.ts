// A password never appears in any output: every error path runs with a
// password holding a unique marker and the characters that break naive
// redaction (@ : / %), plain and URL-encoded, in --url, GLANCE_DB_URL and
// Glance's own config, human and --json output, and backup file names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlEnv, postgresEnv } from './dialects.js';
import { cli } from './helpers.js';

const MARK = 'S3CRETmk';
const ENCODED = encodeURIComponent(`p@ss:w/rd%${MARK}`);

function assertClean(what: string, ...texts: string[]): void {
  for (const t of texts) assert.not.match(t, MARK, `${what} leaked the password`);
}

const urls = [
  `postgresql://glance:${ENCODED}@127.0.0.1:1/glance`,
  `postgresql+psycopg2://glance:${ENCODED}@127.0.0.1:3306/glance`,
  `postgresql://postgres:${ENCODED}@127.0.0.1:5432/glancedb_no_such_db`,
  `mysql://glance:${ENCODED}@127.0.0.1:1/glance`,
  `mysql+pymysql://root:${ENCODED}@127.0.0.1:3306/test?charset=utf8`,
  `mysql://glance:${ENCODED}@127.0.0.1:5432/glance`,
  `mysql://root:${ENCODED}@127.0.0.1:3306/glancedb_no_such_db`,
  `postgresql://glance:${ENCODED}@[bad-host/glance`,
  `mysql://glance:${ENCODED}@127.0.0.1:notaport/glance`,
  `oracle://glance:${ENCODED}@127.0.0.1/glance`,
  `postgresql://glance:p@ss:w/rd%${MARK}@127.0.0.1:1/glance`,
];

test('every error path, human and JSON, through --url and GLANCE_DB_URL', () => {
  for (const url of urls) {
    for (const cmd of [['version'], ['sync', '--json'], ['check', '--json'], ['plan'], ['verify', '--json'], ['downgrade'], ['upgrade', '51', '--backup']]) {
      const a = cli([...cmd, '--url', url, '--connect-timeout', '2']);
      assert.is.not(a.code, 0, `${cmd} ${url}`);
      assertClean(`${cmd.join(' ')} --url ${url}`, a.stdout, a.stderr);
    }
    const b = cli(['sync', '--connect-timeout', '2'], { env: { GLANCE_DB_URL: url } });
    assertClean('GLANCE_DB_URL', b.stdout, b.stderr);
  }
});

test("through Glance's own config file", () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-secret-'));
  try {
    for (const url of urls.slice(0, 4)) {
      writeFileSync(join(dir, 'glance-api.conf'), `[database]\nconnection = ${url}\n`);
      const r = cli(['sync', '--glance-config', join(dir, 'glance-api.conf'), '--connect-timeout', '2', '--json']);
      assert.is.not(r.code, 0);
      assertClean('--glance-config', r.stdout, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a successful run with a password: output and backup file names', async () => {
  for (const env of [postgresEnv, mysqlEnv]) {
    if (!env.available()) continue;
    const db = await env.create();
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-secret-'));
    try {
      // Trust auth (PostgreSQL) accepts any password; root over the socket in MariaDB too.
      const url = env.dialect === 'postgresql' ? db.url.replace('://postgres@', `://postgres:${ENCODED}@`) : db.url;
      const r = cli(['sync', '45', '--url', url]);
      assert.is(r.code, 0, r.stderr);
      const b = cli(['sync', '--backup', '--backup-dir', dir, '--url', url, '--json']);
      assert.is(b.code, 0, b.stderr);
      assertClean('successful sync', r.stdout, r.stderr, b.stdout, b.stderr, readdirSync(dir).join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  }
});

test.run();
