// The TLS settings of a server URL, read as the clients Glance runs with
// read them: PostgreSQL's as libpq does (sslmode and the ssl* parameters,
// the PGSSL* environment variables where the URL is silent, the files in
// ~/.postgresql), MySQL's as oslo.db's drivers do (PyMySQL's and
// mysqlclient's ssl_* parameters, SQLAlchemy's ssl_check_hostname, the MySQL
// client's ssl_mode). The result is one shape for both dialects (TlsSettings),
// which the drivers, their side connections and the backup tools all take
// their settings from: nothing here is parsed and then left unused.
//
// A TLS parameter glance-db cannot honour is refused before any connection
// (exit 3, naming the parameter; a password is never shown). So is a file a
// parameter names that cannot be read. Any other query parameter is either
// known (honoured, or ignored as docs/dialects/*.md say) or a warning.
//
// The shape and the files: tls-settings.ts; each dialect's parameters:
// tls-postgresql.ts, tls-mysql.ts.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import { mysqlTls } from './tls-mysql.js';
import { postgresTls } from './tls-postgresql.js';
import { nodeTls, type Fail, type QueryReading, type TlsSettings } from './tls-settings.js';

export type { Fail, QueryReading, TlsSettings, TlsUse } from './tls-settings.js';

/**
 * The server dialects whose URL parameters this file reads (the TLS rules of
 * libpq and of MySQL's clients); a new server dialect adds its own rules here.
 */
export type TlsDialect = 'postgresql' | 'mysql';

/** The connection is made over a Unix socket (libpq: sslmode does not apply there). */
export function overSocket(host: string, socketPath?: string): boolean {
  return Boolean(socketPath) || host.startsWith('/');
}

// ---------------------------------------------------------------- parameters

/** Honoured elsewhere (url.ts, the drivers) or ignored as documented; never a warning. */
const KNOWN: Record<TlsDialect, Record<string, string>> = {
  postgresql: {
    host: 'honoured: the host, or the socket folder, when the URL has none',
    user: 'honoured when the URL has no user',
    password: 'honoured when the URL has no password',
    unix_socket: "honoured: glance-db's own way to name the socket",
    socket: 'honoured, as unix_socket',
    application_name: 'ignored: glance-db names its sessions glance-db',
    fallback_application_name: 'ignored',
    client_encoding: 'ignored: glance-db always talks UTF-8',
    connect_timeout: 'ignored: use --connect-timeout',
    keepalives: 'ignored: glance-db sets TCP keepalives from --io-timeout',
    keepalives_idle: 'ignored',
    keepalives_interval: 'ignored',
    keepalives_count: 'ignored',
    tcp_user_timeout: 'ignored',
    target_session_attrs: 'ignored',
    sslcompression: 'ignored, as libpq 14 and later ignore it (compression is off)',
    plugin: 'ignored: a SQLAlchemy plugin (devstack: dbcounter)',
  },
  mysql: {
    host: 'honoured when the URL has no host',
    user: 'honoured when the URL has no user',
    password: 'honoured when the URL has no password',
    passwd: 'honoured when the URL has no password',
    charset: 'honoured: utf8 or utf8mb4',
    unix_socket: 'honoured',
    socket: 'honoured',
    plugin: 'ignored: a SQLAlchemy plugin (devstack: dbcounter)',
    read_default_file: 'read only to refuse TLS settings in it',
    read_default_group: 'ignored',
    connect_timeout: 'ignored: use --connect-timeout',
    read_timeout: 'ignored: use --io-timeout',
    write_timeout: 'ignored: use --io-timeout',
    use_unicode: 'ignored',
    binary_prefix: 'ignored',
    local_infile: 'ignored',
    client_flag: 'ignored',
    program_name: 'ignored',
    autocommit: 'ignored',
    compress: 'ignored',
  },
};

/** Refuses a TLS-looking parameter no code here reads (a typo, or one glance-db cannot honour). */
function refuseUnknownTls(
  params: Record<string, string>,
  understood: Set<string>,
  fail: Fail,
  dialect: TlsDialect,
): void {
  for (const k of Object.keys(params)) {
    if (understood.has(k)) continue;
    if (/^(ssl|tls|gss|require)/i.test(k)) {
      fail(
        `glance-db cannot honour the parameter ${k} in a ${dialect} URL, and does not connect without it`,
        `Remove ${k}, or use the TLS parameters docs/dialects/${dialect}.md lists.`,
      );
    }
  }
}

function warningsFor(dialect: TlsDialect, params: Record<string, string>, understood: Set<string>): string[] {
  const unknown = Object.keys(params).filter((k) => !understood.has(k) && !(k in KNOWN[dialect]));
  return unknown.map(
    (k) =>
      `the database URL's parameter ${JSON.stringify(k).slice(0, 60)} means nothing to glance-db and is ignored (docs/dialects/${dialect}.md lists the parameters it reads).`,
  );
}

/** Reads the query parameters of a server URL: its TLS settings, and warnings for what is not understood. */
export function readQuery(
  dialect: TlsDialect,
  params: Record<string, string>,
  fail: Fail,
  env: NodeJS.ProcessEnv = process.env,
): QueryReading {
  const understood = new Set<string>();
  const tlsSettings =
    dialect === 'postgresql' ? postgresTls(params, understood, fail, env) : mysqlTls(params, understood, fail);
  refuseUnknownTls(params, understood, fail, dialect);
  return { tls: tlsSettings, warnings: warningsFor(dialect, params, understood) };
}

export function queryPassword(dialect: TlsDialect, params: Record<string, string>): string {
  return params.password ?? (dialect === 'mysql' ? params.passwd : undefined) ?? '';
}

/**
 * mysqlclient's read_default_file: a MySQL option file whose TLS settings
 * (ssl-ca, ssl-mode...) glance-db does not read. Such a file is refused, so
 * that TLS asked for there is not silently dropped; a file without them is
 * ignored (documented).
 */
export function checkOptionFile(dialect: TlsDialect, params: Record<string, string>, fail: Fail): void {
  // MySQL's read_default_file only (mysqlclient reads it; PostgreSQL URLs have no such parameter).
  const file = dialect === 'mysql' ? params.read_default_file : undefined;
  if (!file) return;
  let text: string;
  try {
    text = readFileSync(file.replace(/^~(?=\/)/, homedir()), 'utf8');
  } catch {
    return; // mysqlclient ignores a missing option file too.
  }
  const line = text.split('\n').find((l) => /^\s*(loose[-_])?(ssl|tls)([-_]|\s*(=|$))/i.test(l));
  if (line !== undefined) {
    fail(
      `the option file read_default_file names, ${file}, sets TLS options (${line.trim().split(/\s*=/)[0]}), which glance-db does not read from option files`,
      'Put the TLS settings in the URL (ssl_ca=..., ssl_verify_cert=true...), where glance-db reads them: docs/dialects/mysql.md.',
    );
  }
}

// ---------------------------------------------------------------- for the drivers

/** Node's TLS options for a connection to host with these settings (pg's `ssl`, and the base of mysql2's). */
export function nodeTlsOptions(s: TlsSettings, host: string): ConnectionOptions {
  return {
    ...(s.ca ? { ca: s.ca } : {}),
    ...(s.cert ? { cert: s.cert } : {}),
    ...(s.key ? { key: s.key } : {}),
    ...(s.passphrase !== undefined ? { passphrase: s.passphrase } : {}),
    ...(s.crl ? { crl: s.crl } : {}),
    ...(s.ciphers ? { ciphers: s.ciphers } : {}),
    ...(s.minVersion ? { minVersion: s.minVersion } : {}),
    ...(s.maxVersion ? { maxVersion: s.maxVersion } : {}),
    rejectUnauthorized: s.verifyChain,
    // The host name is checked against the URL's host, also when it is an IP address.
    checkServerIdentity: s.verifyHost
      ? (_name, cert) => nodeTls().checkServerIdentity(host.replace(/^\[|\]$/g, ''), cert)
      : () => undefined,
  };
}

/** A TLS failure's hint: what was asked and what to check. Undefined when the error is not about TLS. */
export function tlsHint(s: TlsSettings, message: string, dialect: TlsDialect): string | undefined {
  if (s.use === 'disable') return undefined;
  if (/does not support (SSL|secure)/i.test(message)) {
    return `The server does not offer TLS, and ${s.asked} asks for it: glance-db does not fall back to plain text. Enable TLS on the server, or change ${dialect === 'postgresql' ? 'sslmode' : 'the TLS parameters'} in the URL.`;
  }
  if (/altnames|Hostname\/IP does not match|does not match certificate/i.test(message)) {
    return `The server's certificate does not name the host of the URL, and ${s.asked} checks that. Connect by a name the certificate holds (its subjectAltName), or reissue the certificate.`;
  }
  if (/certificate|self[- ]signed|unable to (get|verify)|CERT_|issuer|expired|revoked/i.test(message)) {
    const ca = s.caFile ?? s.caPath ?? (s.systemCa ? "the system's trusted CAs" : 'the trusted CAs');
    return `The server's certificate does not verify against ${ca} (${s.asked}). Check that the file is the CA that signed the server's certificate.`;
  }
  if (/SSL|TLS|handshake|wrong version number|alert/i.test(message)) {
    return `The TLS handshake failed (${s.asked}). Check the server's TLS settings, the client certificate and key, and the allowed TLS versions.`;
  }
  return undefined;
}

/** Why the backup tool cannot be given these settings, or null. Checked before anything is changed. */
export function dumpRefusal(s: TlsSettings, dialect: TlsDialect): string | null {
  if (s.use === 'disable' || s.passphrase === undefined) return null;
  return dialect === 'postgresql'
    ? "--backup cannot pass sslpassword to pg_dump: libpq reads it from no environment variable, and on pg_dump's command line every user of the host could read it"
    : "--backup cannot pass ssl_key_password to the dump tool: mariadb-dump and mysqldump have no option for a client key's password";
}
