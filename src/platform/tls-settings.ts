// The one shape of a server URL's TLS settings (TlsSettings), the helpers the
// PostgreSQL and MySQL readers share (tls-postgresql.ts, tls-mysql.ts), and
// the reading of the files the settings name: before any connection, a file
// that cannot be read, or a key others can read, is refused (exit 3).
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type tlsModule from 'node:tls';
import type { SecureVersion } from 'node:tls';

// node:tls is loaded when a connection needs it, not with this module: the
// single executable's start-up snapshot (scripts/sea.mjs) cannot hold it
// ("Unknown external reference"), and url.ts, which every command loads, imports this file.
type Tls = typeof tlsModule;
export const nodeTls = (): Tls => process.getBuiltinModule('node:tls') as Tls;

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

export const NO_TLS: TlsSettings = { use: 'disable', verifyChain: false, verifyHost: false, asked: 'no TLS' };

const BOOL_TRUE = /^(1|true|yes|on)$/i;
const BOOL_FALSE = /^(0|false|no|off)$/i;

export function bool(params: Record<string, string>, name: string, fail: Fail): boolean | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (BOOL_TRUE.test(v)) return true;
  if (BOOL_FALSE.test(v)) return false;
  return fail(`${name}=${shown(v)} is not true or false`);
}

/** A parameter's value for a message: short, and only when it cannot be a secret. */
export function shown(v: string): string {
  return /^[\w.-]{0,40}$/.test(v) ? v : '(a value glance-db does not understand)';
}

const TLS_VERSIONS: Record<string, SecureVersion> = {
  tlsv1: 'TLSv1',
  'tlsv1.1': 'TLSv1.1',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.3': 'TLSv1.3',
};
export const VERSION_ORDER: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export function tlsVersion(name: string, v: string, fail: Fail): SecureVersion {
  const got = TLS_VERSIONS[v.toLowerCase()];
  return got ?? fail(`${name}=${shown(v)} is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3`);
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
export function load(
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
