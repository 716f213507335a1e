// PostgreSQL's TLS settings, read as libpq reads them: sslmode and the ssl*
// parameters, the PGSSL* environment variables where the URL is silent, the
// files in ~/.postgresql; and pg_dump's environment for the same settings.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { bool, load, NO_TLS, shown, tlsVersion, type Fail, type TlsSettings, type TlsUse } from './tls-settings.js';

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** The parameters read here. */
const PARAMETERS = [
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
];

export function postgresTls(
  params: Record<string, string>,
  understood: Set<string>,
  fail: Fail,
  env: NodeJS.ProcessEnv,
): TlsSettings {
  for (const k of PARAMETERS) understood.add(k);
  // Each parameter as libpq takes it: the URL, else its environment variable, else the default.
  const get: Get = (name, variable) => params[name] ?? (variable ? env[variable] || undefined : undefined);
  const { mode, asked } = sslmode(params, get, env, fail);
  const certmode = refuseUnsupported(get, fail);
  if (mode === 'disable') return { ...NO_TLS, asked };
  const s: TlsSettings = {
    use: mode === 'verify-ca' || mode === 'verify-full' ? 'require' : (mode as TlsUse),
    verifyChain: false,
    verifyHost: mode === 'verify-full',
    asked,
  };
  const home = join(homedir(), '.postgresql');
  const rootcertGiven = get('sslrootcert', 'PGSSLROOTCERT');

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

/** A parameter as libpq takes it: the URL's, else its environment variable's. */
type Get = (name: string, variable?: string) => string | undefined;

/** The sslmode (from the URL, requiressl, PGSSLMODE, or libpq's default) and how it was asked for, in its own words. */
function sslmode(
  params: Record<string, string>,
  get: Get,
  env: NodeJS.ProcessEnv,
  fail: Fail,
): { mode: (typeof SSLMODES)[number]; asked: string } {
  let modeFrom = 'sslmode';
  let mode = get('sslmode', 'PGSSLMODE');
  if (params.sslmode === undefined && params.requiressl !== undefined) {
    // libpq's old spelling: requiressl=1 is sslmode=require, 0 is prefer.
    const r = bool(params, 'requiressl', fail);
    mode = r ? 'require' : 'prefer';
    modeFrom = 'requiressl';
  }
  if (mode === undefined) mode = get('sslrootcert', 'PGSSLROOTCERT') === 'system' ? 'verify-full' : 'prefer';
  if (!(SSLMODES as readonly string[]).includes(mode))
    fail(`sslmode=${shown(mode)} is not one of ${SSLMODES.join(', ')}`);
  const asked =
    params[modeFrom] !== undefined
      ? `${modeFrom}=${params[modeFrom]}`
      : env.PGSSLMODE
        ? `PGSSLMODE=${mode}`
        : `sslmode=${mode} (libpq's default)`;
  return { mode: mode as (typeof SSLMODES)[number], asked };
}

/** Refuses the parameters glance-db cannot honour, or honours only in their default meaning; returns sslcertmode. */
function refuseUnsupported(get: Get, fail: Fail): string {
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
  return certmode;
}

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
