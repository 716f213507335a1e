// A password never appears in any output: every error path runs with a
// password holding a unique marker and the characters that break naive
// redaction (@ : / %), plain and URL-encoded, in --url, GLANCE_DB_URL and
// Glance's own config, human and --json output, and backup file names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlEnv, postgresEnv } from './dialects.js';
import { cli, LATEST, runCli } from './helpers.js';
import { closedPort, serverAddress, serverParts } from './servers.js';
import { GlanceDbError } from '../src/platform/errors.js';
import { registerSecret, scrubSecrets } from '../src/platform/url.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { redactSecret } from '../src/platform/secret.js';

const MARK = 'S3CRETmk';
const ENCODED = encodeURIComponent(`p@ss:w/rd%${MARK}`);

function assertClean(what: string, ...texts: string[]): void {
  for (const t of texts) assert.not.match(t, MARK, `${what} leaked the password`);
}

// The test servers (GLANCE_DB_TEST_PG_URL, GLANCE_DB_TEST_MYSQL_URL), each also asked in the other's protocol, and a port where nothing listens.
const PG = serverAddress('postgresql');
const MY = serverAddress('mysql');
const CLOSED_PORT = await closedPort();
const CLOSED = `127.0.0.1:${CLOSED_PORT}`;
// PostgreSQL waits for the startup message a MySQL client never sends, and the MySQL client for a
// greeting PostgreSQL never sends: this one's error path is the connect timeout, so it is given the
// shortest (1 s); the others answer or refuse at once and keep 2 s, room for a loaded machine (issue 30:
// at 2 s this URL alone was 16 of the file's 25 s).
const MYSQL_ON_PG = `mysql://glance:${ENCODED}@${PG}/glance`;
const connectTimeout = (url: string) => (url === MYSQL_ON_PG ? '1' : '2');
const urls = [
  `postgresql://glance:${ENCODED}@${CLOSED}/glance`,
  `postgresql+psycopg2://glance:${ENCODED}@${MY}/glance`,
  `postgresql://${serverParts('postgresql').user}:${ENCODED}@${PG}/glancedb_no_such_db`,
  `mysql://glance:${ENCODED}@${CLOSED}/glance`,
  `mysql+pymysql://${serverParts('mysql').user}:${ENCODED}@${MY}/test?charset=utf8`,
  MYSQL_ON_PG,
  `mysql://${serverParts('mysql').user}:${ENCODED}@${MY}/glancedb_no_such_db`,
  `postgresql://glance:${ENCODED}@[bad-host/glance`,
  `mysql://glance:${ENCODED}@127.0.0.1:notaport/glance`,
  `oracle://glance:${ENCODED}@127.0.0.1/glance`,
  `postgresql://glance:p@ss:w/rd%${MARK}@${CLOSED}/glance`,
];

// ---- A password that is also part of other names (issue 32): starred where it stands whole, never inside a longer name.
// First in the file: the secrets registered by the tests below (random shapes among them) stay out of these texts. ----

test('a password made of letters and digits is starred where it stands whole, and leaves longer names that hold it alone', () => {
  registerSecret('wrong');
  const cases: [string, string][] = [
    ['database "eco_wrong" does not exist', 'database "eco_wrong" does not exist'],
    ['user wrong_user, host wronghost.example, wrong2', 'user wrong_user, host wronghost.example, wrong2'],
    ['password wrong.', 'password ***.'],
    ['postgresql://u:wrong@h/db', 'postgresql://u:***@h/db'],
    ['password=wrong&x=1 "wrong" (wrong) wrong', 'password=***&x=1 "***" (***) ***'],
    ['wrong-db.example', '***-db.example'],
    ['wrongwrong wrong_wrong', 'wrongwrong wrong_wrong'],
  ];
  for (const [text, want] of cases) assert.is(scrubSecrets(text), want, text);
  // The same rule where a driver scrubs its own error text.
  assert.is(
    redactSecret('FATAL: database "eco_wrong" does not exist; password wrong', 'wrong'),
    'FATAL: database "eco_wrong" does not exist; password ***',
  );
  // A password that cannot be part of a name (a space, @, %) is starred wherever it appears, glued or not, in each of its forms.
  registerSecret('p@ss w0rd');
  assert.is(scrubSecrets('xp@ss w0rdy p%40ss%20w0rd "p@ss w0rd"'), 'x***y *** "***"');
  assert.is(redactSecret('xp@ss w0rdy p%40ss%20w0rdz', 'p@ss w0rd'), 'x***y ***z');
});

// A real process: the exit code and the stdout/stderr split are the contract (the rest run in process, test/run-cli-sqlite.test.ts).
test('through the CLI: the database and user names that hold the password are shown whole, the password never', async () => {
  const closed = CLOSED;
  const r = cli(['version', '--url', `postgresql://wrong_user:wrong@${closed}/eco_wrong`, '--connect-timeout', '2']);
  assert.is(r.code, 9, r.stderr);
  assert.match(r.stderr, `Cannot use PostgreSQL database "eco_wrong" at ${closed} as user "wrong_user"`);
  const j = cli([
    'version',
    '--url',
    `mysql://${MARK}_user:${MARK}@${closed}/eco_${MARK}`,
    '--connect-timeout',
    '2',
    '--json',
  ]);
  const error = JSON.parse(j.stdout).error as { message: string };
  assert.match(error.message, `database "eco_${MARK}" at ${closed} as user "${MARK}_user"`);
  assert.not.match(
    error.message.replace(`eco_${MARK}`, '').replace(`${MARK}_user`, ''),
    MARK,
    'the password itself is not shown',
  );
});

test('every error path, human and JSON, through --url and GLANCE_DB_URL', async () => {
  for (const url of urls) {
    for (const cmd of [
      ['version'],
      ['sync', '--json'],
      ['check', '--json'],
      ['plan'],
      ['verify', '--json'],
      ['downgrade'],
      ['upgrade', String(LATEST), '--backup'],
    ]) {
      const a = await runCli([...cmd, '--url', url, '--connect-timeout', connectTimeout(url)]);
      assert.is.not(a.code, 0, `${cmd} ${url}`);
      assertClean(`${cmd.join(' ')} --url ${url}`, a.stdout, a.stderr);
    }
    const b = await runCli(['sync', '--connect-timeout', connectTimeout(url)], { env: { GLANCE_DB_URL: url } });
    assertClean('GLANCE_DB_URL', b.stdout, b.stderr);
  }
});

test("through Glance's own config file", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-secret-'));
  try {
    for (const url of urls.slice(0, 4)) {
      writeFileSync(join(dir, 'glance-api.conf'), `[database]\nconnection = ${url}\n`);
      const r = await runCli([
        'sync',
        '--glance-config',
        join(dir, 'glance-api.conf'),
        '--connect-timeout',
        '2',
        '--json',
      ]);
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
      const r = await runCli(['sync', '45', '--url', url]);
      assert.is(r.code, 0, r.stderr);
      const b = await runCli(['sync', '--backup', '--backup-dir', dir, '--url', url, '--json']);
      assert.is(b.code, 0, b.stderr);
      assertClean('successful sync', r.stdout, r.stderr, b.stdout, b.stderr, readdirSync(dir).join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  }
});

// ---- Shapes the pattern-based redaction missed (issue 16), and random ones. ----

const PW = `Pw${MARK}`;
/** URLs of every shape a user may type wrong, each with the marker in its password. */
const shapes = [
  `postgresql:/u:${PW}@127.0.0.1/db`,
  `mysql:u:${PW}@127.0.0.1/db`,
  `//u:${PW}@127.0.0.1/db`,
  `mysql://u:P W${MARK}@127.0.0.1:bad/db`,
  `postgresql:///u:${PW}@127.0.0.1/db`,
  `sqlite:/u:${PW}@h/db`,
  `sqlite:u:${PW}@h/x.sqlite`,
  `sqlite:u:ab/${MARK}@h/x.sqlite`,
  `sqlite://u:${PW}@h/x`,
  `postgresql://u:${PW}@${CLOSED}/%zz`,
  `postgresql://u:p%ff${MARK}@${CLOSED}/db`,
  `mysql://u:${PW}@127.0.0.1:99999999/db`,
  `postgresql://u:${PW}@[::1/db`,
  `postgresql://u:${PW}@${CLOSED}/db?x=a@b`,
  `postgresql://u@${CLOSED}/db?password=${PW}`,
  `mysql://u:1/${MARK}@${MY}/db`,
  `mysql://u:12#${MARK}@${CLOSED}/db`,
  `postgresql://u:${PW}\n@${CLOSED}/db`,
  `Postgresql://u:${PW}@${CLOSED}/db`,
  ` postgresql://u:${PW}@${CLOSED}/db `,
  `oracle:u:${PW}@h/db`,
];

const work = mkdtempSync(join(tmpdir(), 'glance-db-secret-shapes-'));
const backups = join(work, 'backups');
const COMMANDS: string[][] = [
  ['version'],
  ['sync'],
  ['upgrade', String(LATEST), '--backup', '--backup-dir', backups],
  ['check'],
  ['plan'],
  ['verify'],
  ['downgrade'],
  ['lint'],
];

type Source = 'url' | 'env' | 'conf';

/** Runs one command with the URL from one source; asserts no password, no stack trace, no internal error. */
async function runShape(url: string, command: string[], source: Source, json: boolean): Promise<void> {
  const args = [...command, ...(json ? ['--json'] : []), '--connect-timeout', '2'];
  let env: Record<string, string> | undefined;
  if (source === 'url') args.push('--url', url);
  else if (source === 'env') env = { GLANCE_DB_URL: url };
  else {
    const conf = join(work, 'glance-api.conf');
    writeFileSync(conf, `[database]\nconnection = ${url}\n`);
    args.push('--glance-config', conf);
  }
  const started = Date.now();
  const r = await runCli(args, { cwd: work, env });
  if (process.env.GLANCE_DB_SECRETS_TIMING)
    console.log(Date.now() - started, r.code, args.join(' '), source, JSON.stringify(url));
  const what = `${args.join(' ')} (${source}: ${JSON.stringify(url)})`;
  assertClean(what, r.stdout, r.stderr);
  assert.is.not(r.code, 1, `${what} reached the internal-error path: ${r.stderr}`);
  assert.not.match(r.stderr + r.stdout, /node:internal|\n\s+at /, `${what}: stack trace`);
  if (json && r.stdout.trim()) JSON.parse(r.stdout);
}

test('the shapes redaction by pattern missed: every command, human and JSON, from --url, GLANCE_DB_URL and --glance-config', async () => {
  mkdirSync(backups, { recursive: true });
  for (const [i, url] of shapes.entries()) {
    // The four shapes of the report through every command (human and JSON alternating, so each
    // command sees both across them); the others through one command each, rotating.
    if (i < 4) for (const [j, c] of COMMANDS.entries()) await runShape(url, c, 'url', (i + j) % 2 === 0);
    else await runShape(url, COMMANDS[i % COMMANDS.length], 'url', i % 2 === 0);
    // And from the other two sources, alternating, with the command rotating.
    if (i % 2 === 0 || url.includes('\n')) await runShape(url, COMMANDS[(i + 5) % COMMANDS.length], 'env', i % 4 === 0);
    else await runShape(url, COMMANDS[(i + 6) % COMMANDS.length], 'conf', i % 4 === 1);
  }
});

/** mulberry32: a small seeded generator, so a failing shape can be reproduced from the seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.GLANCE_DB_SECRETS_SEED ?? 16);
/** How many random shapes are parsed in-process (docs/reliability.md ran 50,000). */
const SHAPES = Number(process.env.GLANCE_DB_SECRETS_SHAPES ?? 5000);
const SPECIALS = [...' @:/?#%&=+[]{}$"\'\\;,!~*()|<>^`\té€'];

interface Shape {
  url: string;
  password: string;
  /** True when the URL is well formed with the password percent-encoded: it must parse to exactly that password. */
  canonical: boolean;
}

/**
 * A random URL; `ports` are the well-formed ports to pick from. The parser sees
 * URLs without a port too; a URL given to the CLI always has the closed port,
 * so that it never knocks on a server that happens to listen on a default port.
 */
function randomShape(r: () => number, ports: readonly string[] = ['', `:${CLOSED_PORT}`]): Shape {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  /** Mostly a well-formed part, sometimes a broken one, so that both parsing and refusing get exercised. */
  const part = <T>(good: readonly T[], bad: readonly T[], pBad = 0.2): T => (r() < pBad ? pick(bad) : pick(good));
  const scheme = part(
    ['postgresql', 'postgres', 'postgresql+psycopg2', 'mysql', 'mysql+pymysql', 'mariadb', 'sqlite', 'SQLite'],
    ['oracle', '', 'my sql', 'pg'],
  );
  const sep = part(['://'], [':/', ':', ':///', ':////', '//', '']);
  const user = pick(['u', 'glance', '', 'us%40er', 'a.b']);
  let password = MARK;
  for (let n = Math.floor(r() * 6); n > 0; n--)
    password = r() < 0.5 ? `${pick(SPECIALS)}${password}` : `${password}${pick(SPECIALS)}`;
  const encoding = pick(['raw', 'encoded', 'encoded', 'partial'] as const);
  const pw =
    encoding === 'raw'
      ? password
      : encoding === 'encoded'
        ? encodeURIComponent(password)
        : [...password].map((c) => (r() < 0.5 ? encodeURIComponent(c) : c)).join('');
  const host = part(['127.0.0.1', 'localhost', '[::1]', ''], ['[::1', 'h h', '127.0.0.1]']);
  const port = part(ports, [':0', ':65536', ':bad', ':', ':99999999999']);
  const path = part(['/db', '/a/b', '/g.sqlite'], ['', '/', '/%zz', '/d%ffb', '/db@x']);
  const query = part(['', '?charset=utf8', `?password=${encodeURIComponent(password)}`], ['?x=a@b', '?%zz=1']);
  const frag = part([''], ['#f', '#@x']);
  const pad = part([''], [' ']);
  const url = `${pad}${scheme}${sep}${user}:${pw}@${host}${port}${path}${query}${frag}${pad}`;
  const canonical =
    /^(postgres|mysql|mariadb)/.test(scheme) &&
    sep === '://' &&
    encoding === 'encoded' &&
    !/[\s[\]]/.test(host) &&
    ports.includes(port) &&
    ['/db', '/a/b', '/g.sqlite'].includes(path) &&
    !query.includes('@') &&
    !query.includes('%zz') &&
    !frag &&
    !user.includes('%');
  return { url, password, canonical };
}

test(`${SHAPES} random URL shapes (seed ${SEED}): parsing never puts the password in a message or in anything shown, and a well-formed URL gives it back exactly`, () => {
  const r = rng(SEED);
  let parsed = 0;
  let refused = 0;
  let canonical = 0;
  for (let i = 0; i < SHAPES; i++) {
    const s = randomShape(r);
    if (s.canonical) canonical++;
    try {
      const t = parseDatabaseUrl(s.url, '/srv', 'the URL given with --url');
      parsed++;
      const shown =
        t.dialect === 'sqlite'
          ? [t.display, t.path]
          : [
              t.display,
              t.host,
              t.user,
              t.database,
              t.socketPath ?? '',
              ...Object.entries(t.params)
                .filter(([k]) => !/^pass/.test(k))
                .flat(),
            ];
      for (const x of shown) assert.not.match(x, MARK, `shape ${i} ${JSON.stringify(s.url)} shows the password: ${x}`);
      if (s.canonical && t.dialect !== 'sqlite')
        assert.is(t.password, s.password, `shape ${i} ${JSON.stringify(s.url)}`);
    } catch (err) {
      if (!(err instanceof GlanceDbError))
        throw new Error(`shape ${i} ${JSON.stringify(s.url)}: ${(err as Error).message}`);
      refused++;
      assert.is(err.exitCode, 3, `shape ${i}`);
      assertClean(`shape ${i} ${JSON.stringify(s.url)}`, err.message, err.hint ?? '');
    }
  }
  // The generator must exercise both outcomes, or the test proves nothing.
  assert.ok(
    parsed > SHAPES / 10 && refused > SHAPES / 10 && canonical > SHAPES / 25,
    `parsed ${parsed}, refused ${refused}, canonical ${canonical}`,
  );
  console.log(
    `  ${SHAPES} shapes: ${parsed} parsed (${canonical} well-formed, password given back exactly), ${refused} refused, 0 leaks`,
  );
});

test(`random URL shapes (seed ${SEED}) through the CLI: every command, every source, human and JSON`, async () => {
  const r = rng(SEED + 1);
  const sources: Source[] = ['url', 'env', 'conf'];
  for (let i = 0; i < 24; i++) {
    const s = randomShape(r, [`:${CLOSED_PORT}`]);
    await runShape(s.url, COMMANDS[i % COMMANDS.length], sources[i % 3], Math.floor(i / 3) % 2 === 0);
  }
});

test('no file or folder glance-db created has the password in its name', () => {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? [e.name, ...walk(join(dir, e.name))] : [e.name],
    );
  const names = walk(work);
  assertClean('file names', names.join('\n'));
  rmSync(work, { recursive: true, force: true });
});

test.run();
