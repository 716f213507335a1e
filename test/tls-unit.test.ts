// How the TLS parameters of a database URL are read (src/platform/tls.ts), without a
// server: libpq's meaning of sslmode and the ssl* files for PostgreSQL,
// PyMySQL's, mysqlclient's and the MySQL client's for MySQL; what cannot be
// honoured is refused (exit 3) naming the parameter and never a password;
// unknown parameters are warnings; the dump tools get the same settings.
// test/tls.test.ts does the same against real TLS servers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, GlanceDbError } from '../src/platform/errors.js';
import { scrubSecrets, type ServerTarget } from '../src/platform/url.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { dumpRefusal, type TlsSettings } from '../src/platform/tls.js';
import { mysqlDumpTlsArgs } from '../src/platform/tls-mysql.js';
import { pgDumpEnv } from '../src/platform/tls-postgresql.js';
import { restoreSteps } from '../src/app/restore.js';

const dir = mkdtempSync(join(tmpdir(), 'glance-db-tls-unit-'));
const home = join(dir, 'home');
mkdirSync(home);
// libpq's defaults live in ~/.postgresql, and the PGSSL* variables stand in for absent parameters: neither may come from the machine.
process.env.HOME = home;
for (const k of Object.keys(process.env)) if (/^PG(SSL|REQUIRESSL|GSS)/.test(k)) delete process.env[k];

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const CA = join(dir, 'ca.crt');
const CERT = join(dir, 'client.crt');
const KEY = join(dir, 'client.key');
const OPEN_KEY = join(dir, 'open.key');
const CRL = join(dir, 'root.crl');
writeFileSync(CA, PEM);
writeFileSync(CERT, PEM);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
writeFileSync(KEY, KEY_PEM, { mode: 0o600 });
writeFileSync(OPEN_KEY, KEY_PEM);
const KEY_PW = 'K3yPassw0rd';
const ENC_KEY = join(dir, 'enc.key');
writeFileSync(
  ENC_KEY,
  privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: KEY_PW }) as string,
  { mode: 0o600 },
);
const BAD_KEY = join(dir, 'bad.key');
writeFileSync(BAD_KEY, 'not a key', { mode: 0o600 });
chmodSync(OPEN_KEY, 0o644);
writeFileSync(CRL, 'crl');
const CAPATH = join(dir, 'cas');
mkdirSync(CAPATH);
writeFileSync(join(CAPATH, 'a.pem'), PEM + PEM);
writeFileSync(join(CAPATH, 'readme.txt'), 'not a certificate');

const PW = 'Pw0rdS3cret';
const pg = (q: string) =>
  parseDatabaseUrl(`postgresql://glance:${PW}@db.example:5432/glance${q ? `?${q}` : ''}`, dir) as ServerTarget;
const my = (q: string) =>
  parseDatabaseUrl(`mysql+pymysql://glance:${PW}@db.example:3306/glance${q ? `?${q}` : ''}`, dir) as ServerTarget;
const tlsOf = (t: ServerTarget) => ({ use: t.tls.use, chain: t.tls.verifyChain, host: t.tls.verifyHost });

/** The URL is refused with exit 3, naming `names`, never the password. */
function refused(parse: () => unknown, ...names: string[]): string {
  try {
    parse();
  } catch (err) {
    assert.ok(err instanceof GlanceDbError, String(err));
    const e = err as GlanceDbError;
    assert.is(e.exitCode, ExitCode.CONFIG, e.message);
    const text = `${e.message} ${e.hint ?? ''}`;
    for (const n of names) assert.match(text, n);
    assert.not.match(text, PW);
    return text;
  }
  throw new Error(`not refused: ${names.join(', ')}`);
}

test('PostgreSQL: the six sslmode values as libpq reads them', () => {
  assert.equal(tlsOf(pg('')), { use: 'prefer', chain: false, host: false }, "no sslmode is libpq's prefer");
  assert.equal(tlsOf(pg('sslmode=disable')), { use: 'disable', chain: false, host: false });
  assert.equal(tlsOf(pg('sslmode=allow')), { use: 'allow', chain: false, host: false });
  assert.equal(tlsOf(pg('sslmode=prefer')), { use: 'prefer', chain: false, host: false });
  assert.equal(tlsOf(pg('sslmode=require')), { use: 'require', chain: false, host: false });
  assert.equal(tlsOf(pg(`sslmode=verify-ca&sslrootcert=${CA}`)), { use: 'require', chain: true, host: false });
  assert.equal(tlsOf(pg(`sslmode=verify-full&sslrootcert=${CA}`)), { use: 'require', chain: true, host: true });
  assert.equal(pg(`sslmode=verify-full&sslrootcert=${CA}`).tls.ca, [PEM.trim()]);
  assert.equal(tlsOf(pg('requiressl=1')), { use: 'require', chain: false, host: false }, "libpq's old requiressl");
});

test('PostgreSQL: require with a root certificate verifies the chain, as verify-ca (libpq)', () => {
  assert.equal(tlsOf(pg(`sslmode=require&sslrootcert=${CA}`)), { use: 'require', chain: true, host: false });
  // ~/.postgresql/root.crt counts as libpq's default sslrootcert.
  mkdirSync(join(home, '.postgresql'), { recursive: true });
  writeFileSync(join(home, '.postgresql', 'root.crt'), PEM);
  try {
    assert.equal(tlsOf(pg('sslmode=require')), { use: 'require', chain: true, host: false });
    assert.is(pg('sslmode=verify-full').tls.caFile, join(home, '.postgresql', 'root.crt'));
  } finally {
    rmSync(join(home, '.postgresql'), { recursive: true, force: true });
  }
});

test('PostgreSQL: verify-ca and verify-full without a root certificate are refused before connecting', () => {
  refused(() => pg('sslmode=verify-full'), 'sslmode=verify-full', 'sslrootcert');
  refused(() => pg('sslmode=verify-ca'), 'sslmode=verify-ca', 'sslrootcert');
  refused(() => pg('sslmode=on'), 'sslmode=on', 'verify-full');
  refused(() => pg(`sslmode=verify-full&sslrootcert=${join(dir, 'missing.crt')}`), 'sslrootcert', 'does not exist');
});

test('PostgreSQL: sslrootcert=system means the system CAs and verify-full', () => {
  const t = pg('sslrootcert=system');
  assert.equal(tlsOf(t), { use: 'require', chain: true, host: true });
  assert.ok(t.tls.systemCa);
  refused(() => pg('sslrootcert=system&sslmode=require'), 'sslrootcert=system', 'verify-full');
});

test('PostgreSQL: client certificate, key, CRL, key password and TLS versions are read', () => {
  const t = pg(
    `sslmode=verify-full&sslrootcert=${CA}&sslcert=${CERT}&sslkey=${ENC_KEY}&sslcrl=${CRL}&sslpassword=${KEY_PW}&ssl_min_protocol_version=TLSv1.3`,
  );
  assert.is(String(t.tls.cert), PEM);
  assert.is(String(t.tls.key), readFileSync(ENC_KEY, 'utf8'));
  assert.is(String(t.tls.crl), 'crl');
  assert.is(t.tls.passphrase, KEY_PW);
  assert.is(t.tls.minVersion, 'TLSv1.3');
  // sslpassword is a secret like the password: scrubbed from anything printed.
  assert.not.match(scrubSecrets(`key password ${KEY_PW}.`), KEY_PW);
  // The key is opened when the URL is read: a wrong or missing password, or no key at all, is said before connecting.
  const wrong = refused(
    () => pg(`sslmode=require&sslcert=${CERT}&sslkey=${ENC_KEY}&sslpassword=wrong${KEY_PW}`),
    'sslkey',
    'cannot be decrypted',
    'sslpassword',
  );
  assert.not.match(wrong, KEY_PW);
  refused(() => pg(`sslmode=require&sslcert=${CERT}&sslkey=${ENC_KEY}`), 'sslkey', 'encrypted', 'sslpassword');
  refused(() => pg(`sslmode=require&sslcert=${CERT}&sslkey=${BAD_KEY}`), 'sslkey', 'no private key');
  refused(
    () => my(`ssl_cert=${CERT}&ssl_key=${ENC_KEY}&ssl_key_password=nope${KEY_PW}`),
    'ssl_key',
    'ssl_key_password',
  );
  refused(() => pg(`sslmode=require&sslcert=${CERT}&sslkey=${OPEN_KEY}`), 'sslkey', 'read by others');
  refused(() => pg(`sslmode=require&sslcert=${CERT}&sslkey=${join(dir, 'nokey')}`), 'sslkey', 'does not exist');
  refused(() => pg(`sslmode=require&sslcrl=${CRL}`), 'sslcrl');
  refused(() => pg('ssl_min_protocol_version=TLSv9'), 'ssl_min_protocol_version');
  refused(() => pg('ssl_min_protocol_version=TLSv1.3&ssl_max_protocol_version=TLSv1.2'), 'TLSv1.3', 'TLSv1.2');
});

test('PostgreSQL: what glance-db cannot honour is refused, naming the parameter', () => {
  refused(() => pg('sslcrldir=/etc/crl'), 'sslcrldir');
  refused(() => pg('sslsni=0'), 'sslsni');
  refused(() => pg('sslnegotiation=direct'), 'sslnegotiation');
  refused(() => pg('sslcertmode=require'), 'sslcertmode');
  refused(() => pg('gssencmode=require'), 'gssencmode');
  refused(() => pg(`ssl_ca=${CA}`), 'ssl_ca', 'postgresql');
  refused(() => pg(`sslmode=bogus&sslpassword=${PW}`), 'sslmode');
});

test('PostgreSQL: PGSSLMODE and PGSSLROOTCERT stand in for absent parameters, as for libpq', () => {
  process.env.PGSSLMODE = 'verify-ca';
  process.env.PGSSLROOTCERT = CA;
  try {
    assert.equal(tlsOf(pg('')), { use: 'require', chain: true, host: false });
    assert.equal(tlsOf(pg('sslmode=disable')), { use: 'disable', chain: false, host: false }, 'the URL wins');
  } finally {
    delete process.env.PGSSLMODE;
    delete process.env.PGSSLROOTCERT;
  }
});

test('MySQL: the ssl_* parameters as PyMySQL and mysqlclient name them', () => {
  assert.equal(tlsOf(my('')), { use: 'disable', chain: false, host: false }, 'no TLS parameter: no TLS, as PyMySQL');
  assert.equal(tlsOf(my(`ssl_ca=${CA}`)), { use: 'require', chain: true, host: false });
  assert.equal(
    tlsOf(my(`ssl_ca=${CA}&ssl_verify_cert=true`)),
    { use: 'require', chain: true, host: false },
    'openstack-ansible: the chain, not the host name',
  );
  assert.equal(tlsOf(my(`ssl_ca=${CA}&ssl_verify_cert=false`)), { use: 'require', chain: false, host: false });
  assert.equal(tlsOf(my(`ssl_ca=${CA}&ssl_verify_identity=true`)), { use: 'require', chain: true, host: true });
  assert.equal(
    tlsOf(my(`ssl_ca=${CA}&ssl_check_hostname=true`)),
    { use: 'require', chain: true, host: true },
    "SQLAlchemy's name for it",
  );
  assert.equal(tlsOf(my('ssl=true')), { use: 'require', chain: false, host: false });
  assert.equal(tlsOf(my(`ssl_cert=${CERT}&ssl_key=${KEY}`)), { use: 'require', chain: false, host: false });
  assert.equal(tlsOf(my('ssl_disabled=true')), { use: 'disable', chain: false, host: false });
  assert.equal(tlsOf(my('ssl_verify_cert=true')), { use: 'require', chain: true, host: false });
  assert.ok(my('ssl_verify_cert=true').tls.systemCa, "verifying without ssl_ca: the system's CAs");
  const capath = my(`ssl_capath=${CAPATH}&ssl_verify_cert=true`);
  assert.is(capath.tls.ca?.length, 2, 'every certificate of the folder, nothing else');
  const t = my(
    `ssl_ca=${CA}&ssl_cipher=ECDHE-RSA-AES256-GCM-SHA384&tls_version=TLSv1.3,TLSv1.2&ssl_key_password=${KEY_PW}&ssl_cert=${CERT}&ssl_key=${ENC_KEY}`,
  );
  assert.is(t.tls.ciphers, 'ECDHE-RSA-AES256-GCM-SHA384');
  assert.is(t.tls.minVersion, 'TLSv1.2');
  assert.is(t.tls.maxVersion, 'TLSv1.3');
  assert.is(t.tls.passphrase, KEY_PW);
  assert.not.match(scrubSecrets(`x ${KEY_PW} y`), KEY_PW);
});

test("MySQL: ssl_mode, the MySQL client's five values", () => {
  assert.equal(tlsOf(my('ssl_mode=DISABLED')), { use: 'disable', chain: false, host: false });
  assert.equal(tlsOf(my('ssl_mode=PREFERRED')), { use: 'prefer', chain: false, host: false });
  assert.equal(tlsOf(my('ssl_mode=REQUIRED')), { use: 'require', chain: false, host: false });
  assert.equal(tlsOf(my(`ssl_mode=VERIFY_CA&ssl_ca=${CA}`)), { use: 'require', chain: true, host: false });
  assert.equal(tlsOf(my(`ssl_mode=verify_identity&ssl_ca=${CA}`)), { use: 'require', chain: true, host: true });
  refused(() => my('ssl_mode=ON'), 'ssl_mode', 'VERIFY_IDENTITY');
  refused(() => my(`ssl_mode=DISABLED&ssl_ca=${CA}`), 'ssl_mode=DISABLED', 'ssl_ca');
  refused(() => my('ssl_mode=REQUIRED&ssl_verify_identity=true'), 'ssl_verify_identity');
  refused(() => my(`ssl_disabled=true&ssl_ca=${CA}`), 'ssl_disabled', 'ssl_ca');
});

test('MySQL: what glance-db cannot honour is refused, naming the parameter', () => {
  refused(() => my('ssl_verify_cert=maybe'), 'ssl_verify_cert');
  refused(() => my('ssl_crlpath=/etc/crl'), 'ssl_crlpath');
  refused(() => my(`ssl_crl=${CRL}`), 'ssl_crl');
  refused(() => my('sslmode=require'), 'sslmode', 'mysql');
  refused(() => my(`ssl_ca=${join(dir, 'missing.crt')}`), 'ssl_ca', 'does not exist');
  refused(() => my(`ssl_capath=${join(dir, 'nothing')}&ssl_verify_cert=true`), 'ssl_capath');
  refused(() => my('tls_version=TLSv2'), 'tls_version');
  const opt = join(dir, 'my.cnf');
  writeFileSync(opt, '[client]\nssl-ca = /etc/mysql/ca.pem\n');
  refused(() => my(`read_default_file=${opt}`), 'read_default_file', 'ssl-ca');
  writeFileSync(opt, '[client]\ndefault-character-set = utf8\n');
  assert.equal(my(`read_default_file=${opt}&read_default_group=glance`).warnings, []);
});

test('other parameters: known ones are quiet, unknown ones are warnings, not errors', () => {
  assert.equal(my('charset=utf8&plugin=dbcounter&read_timeout=30').warnings, []);
  assert.equal(pg('client_encoding=utf8&connect_timeout=10&application_name=x&plugin=dbcounter').warnings, []);
  const w = my('charset=utf8&frobnicate=1').warnings;
  assert.is(w.length, 1);
  assert.match(w[0], 'frobnicate');
  assert.match(pg('options=-csearch_path%3Dx').warnings.join(' '), 'options');
});

test('the password may come from the query, as libpq and PyMySQL take it', () => {
  assert.is((parseDatabaseUrl(`postgresql://glance@h/db?password=${PW}`, dir) as ServerTarget).password, PW);
  assert.is((parseDatabaseUrl(`mysql://glance@h/db?passwd=${PW}`, dir) as ServerTarget).password, PW);
  assert.is(
    (parseDatabaseUrl(`mysql://glance:url@h/db?passwd=${PW}`, dir) as ServerTarget).password,
    'url',
    "the URL's own password wins",
  );
});

test('the dump tools get the same TLS settings', () => {
  const full = pg(`sslmode=verify-full&sslrootcert=${CA}&sslcert=${CERT}&sslkey=${KEY}`).tls;
  const env = pgDumpEnv(full);
  assert.is(env.PGSSLMODE, 'verify-full');
  assert.is(env.PGSSLROOTCERT, CA);
  assert.is(env.PGSSLCERT, CERT);
  assert.is(env.PGSSLKEY, KEY);
  assert.ok('PGSSLCRL' in env && env.PGSSLCRL === undefined, 'an inherited variable the run did not use is removed');
  assert.is(pgDumpEnv(pg(`sslmode=require&sslrootcert=${CA}`).tls).PGSSLMODE, 'verify-ca');
  assert.is(pgDumpEnv(pg('sslmode=require').tls).PGSSLMODE, 'require');
  assert.is(pgDumpEnv(pg('sslmode=disable').tls).PGSSLMODE, 'disable');
  const ca: TlsSettings = my(`ssl_ca=${CA}&ssl_verify_cert=true`).tls;
  assert.equal(mysqlDumpTlsArgs(ca, true), ['--ssl', '--ssl-verify-server-cert', `--ssl-ca=${CA}`]);
  assert.equal(mysqlDumpTlsArgs(ca, false), ['--ssl-mode=VERIFY_CA', `--ssl-ca=${CA}`]);
  assert.equal(mysqlDumpTlsArgs(my('ssl=true').tls, true), ['--ssl', '--skip-ssl-verify-server-cert']);
  assert.equal(mysqlDumpTlsArgs(my('').tls, true), ['--skip-ssl']);
  assert.equal(mysqlDumpTlsArgs(my(`ssl_cert=${CERT}&ssl_key=${KEY}&tls_version=TLSv1.2`).tls, false), [
    '--ssl-mode=REQUIRED',
    `--ssl-cert=${CERT}`,
    `--ssl-key=${KEY}`,
    '--tls-version=TLSv1.2',
  ]);
  // A key password has no safe way to the tools: --backup is refused, naming it, and never showing it.
  const withPw = pg(`sslmode=require&sslcert=${CERT}&sslkey=${ENC_KEY}&sslpassword=${KEY_PW}`).tls;
  assert.match(String(dumpRefusal(withPw, 'postgresql')), 'sslpassword');
  assert.not.match(String(dumpRefusal(withPw, 'postgresql')), KEY_PW);
  assert.is(dumpRefusal(full, 'postgresql'), null);
});

test('the restore steps a refused downgrade prints connect with the same TLS settings', () => {
  const pgSteps = restoreSteps(pg(`sslmode=verify-full&sslrootcert=${CA}`), 'glance-db version').join('\n');
  assert.match(pgSteps, `export PGSSLMODE=verify-full PGSSLROOTCERT=${CA}`);
  assert.not.match(restoreSteps(pg(''), 'glance-db version').join('\n'), 'PGSSL', "libpq's defaults need no word");
  const mySteps = restoreSteps(my(`ssl_ca=${CA}&ssl_verify_identity=true`), 'glance-db version').join('\n');
  assert.match(
    mySteps,
    `mysql --ssl --ssl-verify-server-cert --ssl-ca=${CA} -h db.example -P 3306 -u glance -p glance < BACKUP.sql`,
  );
  assert.not.match(restoreSteps(my(''), 'glance-db version').join('\n'), 'ssl');
});

test('node:tls is not loaded with src/platform/tls.ts (every command loads it; the single executable start-up snapshot cannot hold node:tls)', () => {
  const source = readFileSync(join(process.cwd(), 'src', 'platform', 'tls.ts'), 'utf8');
  assert.not.match(
    source,
    /^import (?!type )[^;]*from 'node:tls'/m,
    'a value import of node:tls: the SEA build fails with "Unknown external reference"',
  );
  // Parsing URLs with TLS asked for loads nothing either (only a connection does).
  parseDatabaseUrl('postgresql://u@h/d?sslmode=verify-full&sslrootcert=system', '/');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
