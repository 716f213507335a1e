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
import { createPrivateKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type tlsModule from 'node:tls';
import type { ConnectionOptions, SecureVersion } from 'node:tls';
import type { ServerDialect } from '../dialects/index.js';

// node:tls is loaded when a connection needs it, not with this module: the
// single executable's start-up snapshot (scripts/sea.mjs) cannot hold it
// ("Unknown external reference"), and url.ts, which every command loads, imports this file.
type Tls = typeof tlsModule;
const nodeTls = (): Tls => process.getBuiltinModule('node:tls') as Tls;

/**
 * When TLS is used: never; plain text first and TLS if the server refuses
 * that (libpq's allow); TLS if the server offers it, else plain text
 * (prefer, MySQL's PREFERRED); TLS or no connection (everything stronger).
 */
export type TlsUse = 'disable' | 'allow' | 'prefer' | 'require';

export interface TlsSettings {
  use: TlsUse;
  /** The server's certificate must chain to the trusted CAs. */
  verifyChain: boolean;
  /** The server's certificate must name the host of the URL (DNS name or IP address). */
  verifyHost: boolean;
  /** What was asked for, in the URL's own words (sslmode=verify-full, ssl_mode=VERIFY_CA...), for messages. */
  asked: string;
  /** The trusted CAs: a file (sslrootcert, ssl_ca), a folder (ssl_capath), or the system's (sslrootcert=system, or MySQL verification without ssl_ca). */
  caFile?: string;
  caPath?: string;
  systemCa?: boolean;
  certFile?: string;
  keyFile?: string;
  crlFile?: string;
  /** The client key's password (sslpassword, ssl_key_password): a secret. */
  passphrase?: string;
  ciphers?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** The contents of the files, read when the URL is parsed. */
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
  crl?: Buffer;
}

/** What the URL's query said about TLS, and what of it was not understood. */
export interface QueryReading {
  tls: TlsSettings;
  warnings: string[];
}

export type Fail = (why: string, hint?: string) => never;

const NO_TLS: TlsSettings = { use: 'disable', verifyChain: false, verifyHost: false, asked: 'no TLS' };

/** The connection is made over a Unix socket (libpq: sslmode does not apply there). */
export function overSocket(host: string, socketPath?: string): boolean {
  return Boolean(socketPath) || host.startsWith('/');
}

// ---------------------------------------------------------------- parameters

/** Honoured elsewhere (url.ts, the drivers) or ignored as documented; never a warning. */
const KNOWN: Record<ServerDialect, Record<string, string>> = {
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

const BOOL_TRUE = /^(1|true|yes|on)$/i;
const BOOL_FALSE = /^(0|false|no|off)$/i;

function bool(params: Record<string, string>, name: string, fail: Fail): boolean | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (BOOL_TRUE.test(v)) return true;
  if (BOOL_FALSE.test(v)) return false;
  return fail(`${name}=${shown(v)} is not true or false`);
}

/** A parameter's value for a message: short, and only when it cannot be a secret. */
function shown(v: string): string {
  return /^[\w.-]{0,40}$/.test(v) ? v : '(a value glance-db does not understand)';
}

const TLS_VERSIONS: Record<string, SecureVersion> = {
  tlsv1: 'TLSv1',
  'tlsv1.1': 'TLSv1.1',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.3': 'TLSv1.3',
};
const VERSION_ORDER: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function tlsVersion(name: string, v: string, fail: Fail): SecureVersion {
  const got = TLS_VERSIONS[v.toLowerCase()];
  return got ?? fail(`${name}=${shown(v)} is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3`);
}

/** Refuses a TLS-looking parameter no code here reads (a typo, or one glance-db cannot honour). */
function refuseUnknownTls(
  params: Record<string, string>,
  understood: Set<string>,
  fail: Fail,
  dialect: ServerDialect,
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

function warningsFor(dialect: ServerDialect, params: Record<string, string>, understood: Set<string>): string[] {
  const unknown = Object.keys(params).filter((k) => !understood.has(k) && !(k in KNOWN[dialect]));
  return unknown.map(
    (k) =>
      `the database URL's parameter ${JSON.stringify(k).slice(0, 60)} means nothing to glance-db and is ignored (docs/dialects/${dialect}.md lists the parameters it reads).`,
  );
}

/** Reads the query parameters of a server URL: its TLS settings, and warnings for what is not understood. */
export function readQuery(
  dialect: ServerDialect,
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

// ---------------------------------------------------------------- files

function readable(name: string, path: string, fail: Fail): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read by this user'
          : code === 'EISDIR'
            ? 'is a folder'
            : `cannot be read (${code ?? 'error'})`;
    return fail(
      `the file ${name} names, ${path}, ${why}`,
      `Fix ${name} in the URL; glance-db reads the file before it connects.`,
    );
  }
}

function pemCertificates(name: string, path: string, fail: Fail): string[] {
  const text = readable(name, path, fail).toString('utf8');
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) fail(`the file ${name} names, ${path}, holds no PEM certificate`);
  return certs;
}

/** libpq refuses a key that others may read: 0600 or less when the user owns it, 0640 or less when root does. */
function checkKeyMode(name: string, path: string, fail: Fail): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return; // readable() reports it.
  }
  const uid = process.getuid?.() ?? -1;
  if (st.uid === uid && st.mode & 0o077) {
    fail(
      `the private key file ${name} names, ${path}, may be read by others (mode ${(st.mode & 0o777).toString(8)}); libpq refuses such a key, and so does glance-db`,
      `chmod 600 ${path}`,
    );
  }
  if (st.uid === 0 && uid !== 0 && st.mode & 0o037) {
    fail(
      `the private key file ${name} names, ${path}, owned by root, may be read by others (mode ${(st.mode & 0o777).toString(8)}); libpq refuses such a key, and so does glance-db`,
      `chmod 640 ${path}`,
    );
  }
}

/** The CA certificates of a folder (ssl_capath): every file in it that holds a PEM certificate. */
function folderCertificates(name: string, path: string, fail: Fail): string[] {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return fail(`the folder ${name} names, ${path}, cannot be read`);
  }
  const certs: string[] = [];
  for (const f of names.sort()) {
    let text = '';
    try {
      text = readFileSync(join(path, f), 'utf8');
    } catch {
      continue; // Subfolders, unreadable files: OpenSSL's hashed lookup would not use them either.
    }
    certs.push(...(text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []));
  }
  if (certs.length === 0) fail(`the folder ${name} names, ${path}, holds no PEM certificate`);
  return certs;
}

/** The system's trusted CAs (Node 22.15 and later); before that, Node's own bundle, the nearest there is. */
function systemCertificates(): string[] {
  const get = (nodeTls() as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  return typeof get === 'function' ? get('system') : [...nodeTls().rootCertificates];
}

/** Reads the files the settings name; a file that cannot be read, or a key others can read, is refused. */
function load(
  s: TlsSettings,
  names: { ca: string; cert: string; key: string; crl: string; passphrase: string; capath?: string },
  fail: Fail,
): TlsSettings {
  if (s.use === 'disable') return s;
  if (s.caFile) s.ca = pemCertificates(names.ca, s.caFile, fail);
  if (s.caPath) s.ca = [...(s.ca ?? []), ...folderCertificates(names.capath ?? 'ssl_capath', s.caPath, fail)];
  if (s.systemCa) s.ca = systemCertificates();
  if (s.certFile) s.cert = readable(names.cert, s.certFile, fail);
  if (s.keyFile) {
    checkKeyMode(names.key, s.keyFile, fail);
    s.key = readable(names.key, s.keyFile, fail);
    // Opened now, so that a wrong or missing key password is said before connecting, and not as a TLS failure.
    try {
      createPrivateKey({ key: s.key, ...(s.passphrase !== undefined ? { passphrase: s.passphrase } : {}) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      // An encrypted key without a password: OpenSSL's prompt is "interrupted", as nothing may prompt here.
      const why =
        s.passphrase === undefined && /PASSPHRASE|INTERRUPTED|CANCELLED/.test(code)
          ? `is encrypted, and the URL gives no ${names.passphrase} for it`
          : s.passphrase !== undefined && /decrypt/i.test((err as Error).message)
            ? `cannot be decrypted with the ${names.passphrase} given`
            : 'holds no private key glance-db can read (PEM or DER)';
      fail(
        `the private key file ${names.key} names, ${s.keyFile}, ${why}`,
        `Check ${names.key} and ${names.passphrase} in the URL.`,
      );
    }
  }
  if (s.cert && !s.key) fail(`${names.cert} is given without its key (${names.key})`);
  if (s.key && !s.cert) fail(`${names.key} is given without its certificate (${names.cert})`);
  if (s.crlFile) s.crl = readable(names.crl, s.crlFile, fail);
  if (s.minVersion && s.maxVersion && VERSION_ORDER.indexOf(s.minVersion) > VERSION_ORDER.indexOf(s.maxVersion)) {
    fail(`the lowest TLS version allowed (${s.minVersion}) is above the highest (${s.maxVersion})`);
  }
  return s;
}

// ---------------------------------------------------------------- PostgreSQL (libpq)

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

function postgresTls(
  params: Record<string, string>,
  understood: Set<string>,
  fail: Fail,
  env: NodeJS.ProcessEnv,
): TlsSettings {
  for (const k of [
    'sslmode',
    'requiressl',
    'sslrootcert',
    'sslcert',
    'sslkey',
    'sslcrl',
    'sslpassword',
    'ssl_min_protocol_version',
    'ssl_max_protocol_version',
    'sslsni',
    'sslnegotiation',
    'sslcertmode',
    'sslcompression',
    'gssencmode',
  ])
    understood.add(k);
  // Each parameter as libpq takes it: the URL, else its environment variable, else the default.
  const get = (name: string, variable?: string): string | undefined =>
    params[name] ?? (variable ? env[variable] || undefined : undefined);
  const home = join(homedir(), '.postgresql');
  let modeFrom = 'sslmode';
  let mode = get('sslmode', 'PGSSLMODE');
  if (params.sslmode === undefined && params.requiressl !== undefined) {
    // libpq's old spelling: requiressl=1 is sslmode=require, 0 is prefer.
    const r = bool(params, 'requiressl', fail);
    mode = r ? 'require' : 'prefer';
    modeFrom = 'requiressl';
  }
  const rootcertGiven = get('sslrootcert', 'PGSSLROOTCERT');
  if (mode === undefined) mode = rootcertGiven === 'system' ? 'verify-full' : 'prefer';
  if (!(SSLMODES as readonly string[]).includes(mode))
    fail(`sslmode=${shown(mode)} is not one of ${SSLMODES.join(', ')}`);
  const asked =
    params[modeFrom] !== undefined
      ? `${modeFrom}=${params[modeFrom]}`
      : env.PGSSLMODE
        ? `PGSSLMODE=${mode}`
        : `sslmode=${mode} (libpq's default)`;

  // The ones glance-db cannot honour, or honours only in their default meaning.
  const sni = get('sslsni', 'PGSSLSNI');
  if (sni !== undefined && sni !== '1')
    fail(
      `sslsni=${shown(sni)} is not supported: glance-db always sends the host name (SNI), as sslsni=1`,
      'Remove sslsni from the URL.',
    );
  const negotiation = get('sslnegotiation', 'PGSSLNEGOTIATION');
  if (negotiation !== undefined && negotiation !== 'postgres')
    fail(
      `sslnegotiation=${shown(negotiation)} is not supported: glance-db negotiates TLS the PostgreSQL way (sslnegotiation=postgres)`,
      'Remove sslnegotiation from the URL.',
    );
  const certmode = get('sslcertmode', 'PGSSLCERTMODE') ?? 'allow';
  if (!['allow', 'disable'].includes(certmode))
    fail(
      `sslcertmode=${shown(certmode)} is not supported (allow and disable are)`,
      'Remove sslcertmode, or use allow.',
    );
  const gss = get('gssencmode', 'PGGSSENCMODE');
  if (gss === 'require')
    fail(
      'gssencmode=require is not supported: glance-db has no GSSAPI encryption',
      'Use TLS (sslmode=verify-full) instead.',
    );
  if (gss !== undefined && !['disable', 'prefer', 'allow', 'require'].includes(gss))
    fail(`gssencmode=${shown(gss)} is not one of disable, prefer, require`);

  if (mode === 'disable') return { ...NO_TLS, asked };
  const s: TlsSettings = {
    use: mode === 'verify-ca' || mode === 'verify-full' ? 'require' : (mode as TlsUse),
    verifyChain: false,
    verifyHost: mode === 'verify-full',
    asked,
  };

  // The root certificate: libpq verifies the chain whenever one is found,
  // whatever the mode below verify-ca says (require with a root certificate is verify-ca).
  if (rootcertGiven === 'system') {
    if (mode !== 'verify-full')
      fail(`sslrootcert=system needs sslmode=verify-full (libpq refuses the weaker sslmode=${mode} with it)`);
    s.systemCa = true;
    s.verifyChain = true;
  } else {
    const rootcert = rootcertGiven ?? join(home, 'root.crt');
    if (rootcertGiven !== undefined || existsSync(rootcert)) {
      s.caFile = rootcert;
      s.verifyChain = true;
    } else if (mode.startsWith('verify')) {
      fail(
        `sslmode=${mode} needs the CA's certificate, and there is no sslrootcert in the URL nor ${rootcert}`,
        "Add sslrootcert=/path/to/ca.crt to the URL (or sslrootcert=system for the system's trusted CAs), or use sslmode=require, which does not verify the server.",
      );
    }
  }
  // The CRL, only when the chain is verified (as libpq).
  const crl = get('sslcrl', 'PGSSLCRL') ?? (existsSync(join(home, 'root.crl')) ? join(home, 'root.crl') : undefined);
  if (crl && s.verifyChain) s.crlFile = crl;
  else if (params.sslcrl)
    fail(
      'sslcrl is given, but the server certificate is not verified (no sslrootcert): the CRL would not be used',
      'Add sslrootcert, or remove sslcrl.',
    );

  // The client certificate: the named one, else ~/.postgresql/postgresql.crt when it exists.
  if (certmode !== 'disable') {
    const certGiven = get('sslcert', 'PGSSLCERT');
    const cert = certGiven ?? join(home, 'postgresql.crt');
    if (certGiven !== undefined || existsSync(cert)) {
      s.certFile = cert;
      s.keyFile = get('sslkey', 'PGSSLKEY') ?? join(home, 'postgresql.key');
    } else if (params.sslkey) {
      fail('sslkey is given without sslcert');
    }
  }
  if (params.sslpassword !== undefined) s.passphrase = params.sslpassword;
  const min = get('ssl_min_protocol_version', 'PGSSLMINPROTOCOLVERSION');
  const max = get('ssl_max_protocol_version', 'PGSSLMAXPROTOCOLVERSION');
  s.minVersion = min ? tlsVersion('ssl_min_protocol_version', min, fail) : 'TLSv1.2';
  if (max) s.maxVersion = tlsVersion('ssl_max_protocol_version', max, fail);
  return load(s, { ca: 'sslrootcert', cert: 'sslcert', key: 'sslkey', crl: 'sslcrl', passphrase: 'sslpassword' }, fail);
}

// ---------------------------------------------------------------- MySQL (PyMySQL, mysqlclient, the MySQL client)

const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;

function mysqlTls(params: Record<string, string>, understood: Set<string>, fail: Fail): TlsSettings {
  for (const k of [
    'ssl',
    'ssl_mode',
    'ssl_disabled',
    'ssl_ca',
    'ssl_capath',
    'ssl_cert',
    'ssl_key',
    'ssl_key_password',
    'ssl_cipher',
    'ssl_crl',
    'ssl_verify_cert',
    'ssl_verify_identity',
    'ssl_check_hostname',
    'tls_version',
  ])
    understood.add(k);
  const files = [
    'ssl_ca',
    'ssl_capath',
    'ssl_cert',
    'ssl_key',
    'ssl_cipher',
    'ssl_crl',
    'ssl_key_password',
    'tls_version',
  ].filter((k) => params[k] !== undefined);
  const verifyCert = bool(params, 'ssl_verify_cert', fail);
  const identity = bool(params, 'ssl_verify_identity', fail) ?? bool(params, 'ssl_check_hostname', fail);
  const disabled = bool(params, 'ssl_disabled', fail) === true || bool(params, 'ssl', fail) === false;
  const sslOn = bool(params, 'ssl', fail) === true;

  let mode: (typeof SSL_MODES)[number];
  let asked: string;
  if (params.ssl_mode !== undefined) {
    const m = params.ssl_mode.toUpperCase();
    if (!(SSL_MODES as readonly string[]).includes(m))
      fail(`ssl_mode=${shown(params.ssl_mode)} is not one of ${SSL_MODES.join(', ')}`);
    mode = m as (typeof SSL_MODES)[number];
    asked = `ssl_mode=${params.ssl_mode}`;
    // ssl_mode says it all; a flag that says otherwise is a contradiction, not a detail.
    const against =
      mode === 'DISABLED'
        ? [
            ...files,
            ...(verifyCert ? ['ssl_verify_cert'] : []),
            ...(identity ? ['ssl_verify_identity'] : []),
            ...(sslOn ? ['ssl'] : []),
          ]
        : [
            ...(disabled ? ['ssl_disabled'] : []),
            ...(identity === true && mode !== 'VERIFY_IDENTITY' ? ['ssl_verify_identity'] : []),
            ...(verifyCert === true && !mode.startsWith('VERIFY') ? ['ssl_verify_cert'] : []),
          ];
    if (against.length)
      fail(
        `ssl_mode=${mode} contradicts ${against.join(', ')}`,
        'Keep one way of saying it: ssl_mode alone, or the ssl_* flags without ssl_mode.',
      );
  } else if (disabled) {
    const against = [
      ...files,
      ...(verifyCert ? ['ssl_verify_cert'] : []),
      ...(identity ? ['ssl_verify_identity'] : []),
    ];
    if (against.length)
      fail(`${params.ssl_disabled !== undefined ? 'ssl_disabled' : 'ssl=false'} contradicts ${against.join(', ')}`);
    mode = 'DISABLED';
    asked = params.ssl_disabled !== undefined ? `ssl_disabled=${params.ssl_disabled}` : `ssl=${params.ssl}`;
  } else if (identity) {
    mode = 'VERIFY_IDENTITY';
    asked =
      params.ssl_verify_identity !== undefined
        ? `ssl_verify_identity=${params.ssl_verify_identity}`
        : `ssl_check_hostname=${params.ssl_check_hostname}`;
  } else if (
    verifyCert === true ||
    (verifyCert === undefined && (params.ssl_ca !== undefined || params.ssl_capath !== undefined))
  ) {
    mode = 'VERIFY_CA';
    asked = verifyCert
      ? `ssl_verify_cert=${params.ssl_verify_cert}`
      : params.ssl_ca !== undefined
        ? 'ssl_ca'
        : 'ssl_capath';
  } else if (files.length || sslOn || verifyCert === false || identity === false) {
    mode = 'REQUIRED';
    asked = sslOn ? `ssl=${params.ssl}` : (files[0] ?? 'ssl_verify_cert=false');
  } else {
    mode = 'DISABLED';
    asked = 'no TLS parameter';
  }
  if (mode === 'DISABLED') return { ...NO_TLS, asked };
  const s: TlsSettings = {
    use: mode === 'PREFERRED' ? 'prefer' : 'require',
    verifyChain: mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY',
    verifyHost: mode === 'VERIFY_IDENTITY',
    asked,
    caFile: params.ssl_ca,
    caPath: params.ssl_capath,
    certFile: params.ssl_cert,
    keyFile: params.ssl_key,
    crlFile: params.ssl_crl,
    passphrase: params.ssl_key_password,
    ciphers: params.ssl_cipher,
  };
  // Verifying without a CA of one's own: the system's trusted CAs (as PyMySQL's default SSL context).
  if (s.verifyChain && !s.caFile && !s.caPath) s.systemCa = true;
  if (s.crlFile && !s.verifyChain)
    fail(
      'ssl_crl is given, but the server certificate is not verified: the CRL would not be used',
      'Add ssl_verify_cert=true (or ssl_mode=VERIFY_CA), or remove ssl_crl.',
    );
  if (params.tls_version !== undefined) {
    const versions = params.tls_version.split(',').map((v) => tlsVersion('tls_version', v.trim(), fail));
    versions.sort((a, b) => VERSION_ORDER.indexOf(a) - VERSION_ORDER.indexOf(b));
    s.minVersion = versions[0];
    s.maxVersion = versions[versions.length - 1];
  }
  return load(
    s,
    {
      ca: 'ssl_ca',
      cert: 'ssl_cert',
      key: 'ssl_key',
      crl: 'ssl_crl',
      passphrase: 'ssl_key_password',
      capath: 'ssl_capath',
    },
    fail,
  );
}

/**
 * mysqlclient's read_default_file: a MySQL option file whose TLS settings
 * (ssl-ca, ssl-mode...) glance-db does not read. Such a file is refused, so
 * that TLS asked for there is not silently dropped; a file without them is
 * ignored (documented).
 */
/** The password a URL carries in its query, where it has none before the host: `password`, and for MySQL also PyMySQL's `passwd`. */
export function queryPassword(dialect: ServerDialect, params: Record<string, string>): string {
  return params.password ?? (dialect === 'mysql' ? params.passwd : undefined) ?? '';
}

export function checkOptionFile(dialect: ServerDialect, params: Record<string, string>, fail: Fail): void {
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
export function tlsHint(s: TlsSettings, message: string, dialect: ServerDialect): string | undefined {
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

// ---------------------------------------------------------------- for the backup tools

/** libpq's variables that pg_dump would read: all of them are set (or removed) so that pg_dump connects as glance-db did. */
const PG_TLS_VARIABLES = [
  'PGSSLMODE',
  'PGREQUIRESSL',
  'PGSSLROOTCERT',
  'PGSSLCERT',
  'PGSSLKEY',
  'PGSSLCRL',
  'PGSSLCRLDIR',
  'PGSSLCERTMODE',
  'PGSSLMINPROTOCOLVERSION',
  'PGSSLMAXPROTOCOLVERSION',
  'PGSSLSNI',
  'PGSSLNEGOTIATION',
  'PGSSLCOMPRESSION',
];

/** pg_dump's environment for these settings (undefined: the variable is removed). */
export function pgDumpEnv(s: TlsSettings): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = Object.fromEntries(PG_TLS_VARIABLES.map((v) => [v, undefined]));
  env.PGSSLMODE =
    s.use === 'require' ? (s.verifyHost ? 'verify-full' : s.verifyChain ? 'verify-ca' : 'require') : s.use;
  if (s.use === 'disable') return env;
  if (s.systemCa) env.PGSSLROOTCERT = 'system';
  else if (s.caFile) env.PGSSLROOTCERT = s.caFile;
  else env.PGSSLROOTCERT = '/dev/null/no-root-certificate'; // no ~/.postgresql/root.crt: glance-db did not use one either
  if (s.certFile) {
    env.PGSSLCERT = s.certFile;
    env.PGSSLKEY = s.keyFile;
  } else {
    env.PGSSLCERT = '/dev/null/no-client-certificate';
  }
  if (s.crlFile) env.PGSSLCRL = s.crlFile;
  if (s.minVersion) env.PGSSLMINPROTOCOLVERSION = s.minVersion;
  if (s.maxVersion) env.PGSSLMAXPROTOCOLVERSION = s.maxVersion;
  return env;
}

/**
 * mariadb-dump's or mysqldump's TLS options for these settings. MariaDB's
 * client cannot verify the chain without the host name: for VERIFY_CA it
 * checks both (stricter than the run itself; docs/dialects/mysql.md). With
 * PREFERRED the tool is given no TLS option, and uses TLS as its own default says.
 */
export function mysqlDumpTlsArgs(s: TlsSettings, mariadb: boolean): string[] {
  if (s.use === 'disable') return mariadb ? ['--skip-ssl'] : ['--ssl-mode=DISABLED'];
  if (s.use === 'prefer' || s.use === 'allow') return mariadb ? [] : ['--ssl-mode=PREFERRED'];
  const args = mariadb
    ? ['--ssl', s.verifyChain ? '--ssl-verify-server-cert' : '--skip-ssl-verify-server-cert']
    : [`--ssl-mode=${s.verifyHost ? 'VERIFY_IDENTITY' : s.verifyChain ? 'VERIFY_CA' : 'REQUIRED'}`];
  if (s.caFile) args.push(`--ssl-ca=${s.caFile}`);
  if (s.caPath) args.push(`--ssl-capath=${s.caPath}`);
  if (s.certFile) args.push(`--ssl-cert=${s.certFile}`);
  if (s.keyFile) args.push(`--ssl-key=${s.keyFile}`);
  if (s.crlFile) args.push(`--ssl-crl=${s.crlFile}`);
  if (s.ciphers) args.push(`--ssl-cipher=${s.ciphers}`);
  if (s.minVersion || s.maxVersion) {
    const from = VERSION_ORDER.indexOf(s.minVersion ?? 'TLSv1');
    const to = VERSION_ORDER.indexOf(s.maxVersion ?? 'TLSv1.3');
    args.push(`--tls-version=${VERSION_ORDER.slice(from, to + 1).join(',')}`);
  }
  return args;
}

/** Why the backup tool cannot be given these settings, or null. Checked before anything is changed. */
export function dumpRefusal(s: TlsSettings, dialect: ServerDialect): string | null {
  if (s.use === 'disable' || s.passphrase === undefined) return null;
  return dialect === 'postgresql'
    ? "--backup cannot pass sslpassword to pg_dump: libpq reads it from no environment variable, and on pg_dump's command line every user of the host could read it"
    : "--backup cannot pass ssl_key_password to the dump tool: mariadb-dump and mysqldump have no option for a client key's password";
}
