// MySQL's TLS settings, read as oslo.db's drivers read them (PyMySQL's and
// mysqlclient's ssl_* parameters, SQLAlchemy's ssl_check_hostname, the MySQL
// client's ssl_mode); and the dump tools' options for the same settings.
import { bool, load, NO_TLS, shown, tlsVersion, VERSION_ORDER, type Fail, type TlsSettings } from './tls-settings.js';

const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;

/** The parameters read here. */
const PARAMETERS = [
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
];

export function mysqlTls(params: Record<string, string>, understood: Set<string>, fail: Fail): TlsSettings {
  for (const k of PARAMETERS) understood.add(k);
  const { mode, asked } = sslMode(params, fail);
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

/** The ssl_mode the parameters say (ssl_mode itself, or the ssl_* flags) and how it was asked for; a contradiction is refused. */
function sslMode(params: Record<string, string>, fail: Fail): { mode: (typeof SSL_MODES)[number]; asked: string } {
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
  return { mode, asked };
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
