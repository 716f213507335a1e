// Database URLs: glance-db's own forms and the oslo.db/SQLAlchemy forms found
// in glance-api.conf. A URL is never echoed as given: messages name where it
// came from ("the URL given with --url") and show only the parts a parse
// proved are not the password (scheme, user, host, port, database), built
// again from those parts (golang-migrate leaked passwords on URL-parse
// errors, issue 1242). Fail closed: a URL that does not parse cleanly is
// refused without quoting any of it, and one whose text could put a password
// into the user, host, database or a SQLite path (a stray "user:pw@" in the
// wrong place) is refused too. As defence in depth, every password-like part
// of every URL the command was given is registered and scrubbed from all
// output (scrubSecrets), whatever code path printed it.
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import type { UrlDialect, UrlFileDialect as FileDialect, UrlServerDialect as ServerDialect } from './url-dialects.js';
import { checkOptionFile, queryPassword, readQuery, type TlsSettings } from './tls.js';

/** A database in a file (SQLite). */
export interface SqliteTarget {
  dialect: FileDialect;
  /** Absolute path of the database file. */
  path: string;
  /** The URL with nothing secret in it, for messages. */
  display: string;
}

/** A database on a server. */
export interface ServerTarget {
  dialect: ServerDialect;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** A Unix socket from `?unix_socket=` or `?socket=` (MySQL's; glance-db takes them for PostgreSQL too). */
  socketPath?: string;
  params: Record<string, string>;
  /** TLS as the URL (and, for PostgreSQL, libpq's PGSSL* variables and ~/.postgresql) asks for it: src/platform/tls.ts. */
  tls: TlsSettings;
  /** Query parameters glance-db does not know: printed as warnings, never an error. */
  warnings: string[];
  display: string;
}

export type DatabaseTarget = SqliteTarget | ServerTarget;

/** A file target (its dialect's description says `kind: 'file'`: the parser gave it a path, no host). */
export function isFileTarget(t: DatabaseTarget): t is SqliteTarget {
  return 'path' in t;
}

/** Every scheme of every dialect (oslo.db/SQLAlchemy forms included) -> its dialect. */
function schemesOf(dialects: Record<string, UrlDialect>): Record<string, string> {
  return Object.fromEntries(Object.entries(dialects).flatMap(([d, x]) => x.url.schemes.map((s) => [s, d])));
}

/** "a, b or c" */
function inWords(items: string[], last: string): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

/** Where a URL came from, in words that never quote it. */
export const DEFAULT_URL_SOURCE = 'the database URL';

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The scheme of a URL if it has a plausible one (letters, digits, + . -), lower-cased. */
export function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]{0,39}):/i.exec(url);
  return m ? m[1].toLowerCase() : null;
}

/**
 * Percent-decoding as SQLAlchemy (and so Glance) does it, Python's unquote: a
 * `%` not followed by two hex digits stays as it is; escapes that do not form
 * UTF-8 are refused (Python would put U+FFFD in their place and connect with
 * a wrong password or database name).
 */
function unquote(text: string, part: string, fail: (why: string) => never): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length;) {
    if (text[i] === '%' && /^[0-9a-f]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return fail(`the ${part} holds percent-escapes (%XX) that are not UTF-8 text`);
  }
}

/**
 * Parses a database URL. Relative SQLite paths are resolved against baseDir
 * (the manifest's folder for a URL from the manifest, the working directory
 * for --url and GLANCE_DB_URL). `source` names the URL in messages, e.g.
 * "the URL given with --url"; the URL itself is never quoted.
 */
export function parseUrlOf(
  dialects: Record<string, UrlDialect>,
  url: string,
  baseDir: string,
  source = DEFAULT_URL_SOURCE,
): DatabaseTarget {
  const names = Object.keys(dialects);
  registerSecretsOf(url);
  const text = url.trim();
  const fail = (why: string, hint?: string): never => {
    throw new ConfigError(`${capital(source)} is not a database URL glance-db can use: ${why}.`, {
      hint:
        hint ??
        `Use ${inWords(
          names.map((d) => dialects[d].url.form),
          'or',
        )}; percent-encode special characters in the password (%40 for @).`,
    });
  };
  if (!text) fail('it is empty');
  if (/[\0-\x1f\x7f]/.test(text)) fail('it contains control characters (a line break or tab?)');
  const scheme = schemeOf(text);
  const dialect = scheme ? schemesOf(dialects)[scheme] : undefined;
  if (!scheme) fail('it does not start with a scheme such as sqlite:, postgresql:// or mysql://');
  if (!dialect) {
    fail(
      `glance-db does not speak the scheme "${scheme}"`,
      `glance-db speaks ${inWords(
        names.map((d) => dialects[d].url.spoken),
        'and',
      )}.`,
    );
  }
  const rest = text.slice(scheme!.length + 1);
  const d = dialects[dialect!];
  return d.kind === 'file'
    ? parseSqlite(rest, dialect as FileDialect, baseDir, fail)
    : parseServer(rest, dialect as ServerDialect, d, fail);
}

function parseSqlite(
  rest: string,
  dialect: FileDialect,
  baseDir: string,
  fail: (why: string, hint?: string) => never,
): SqliteTarget {
  // sqlite:PATH is glance-db's form; sqlite:///rel and sqlite:////abs are SQLAlchemy's.
  let path = rest;
  if (path.startsWith('///')) path = path.slice(3);
  else if (path.startsWith('//')) fail('a SQLite URL names no host (use sqlite:PATH or sqlite:///PATH)');
  // "sqlite:/u:pw@h/db" is a server URL typed wrong, not a file name, and the
  // path is shown in every message. Fail closed: any '@' (in the path or
  // after a '?') is refused, as "sqlite:pw@host" cannot be told from a file name.
  if (path.includes('@')) {
    fail(
      "it contains '@', which looks like user:password@host: a SQLite URL takes no user or password (a server URL needs postgresql:// or mysql://; rename a file whose name holds '@')",
    );
  }
  path = path.split('?')[0];
  if (!path || path === ':memory:') fail('it has no file path (use for example sqlite:glance.sqlite)');
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  return { dialect, path: full, display: `${dialect}:${full}` };
}

/** HOST[:PORT] or [IPV6][:PORT], as written (not yet percent-decoded). */
function hostAndPort(hostPort: string, fail: (why: string) => never): { host: string; portText: string } {
  let host = hostPort;
  let portText = '';
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) fail('an IPv6 host has no closing ]');
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after && !after.startsWith(':')) fail('unexpected text after the IPv6 host');
    portText = after.slice(1);
  } else {
    const colon = hostPort.indexOf(':');
    if (colon >= 0) {
      host = hostPort.slice(0, colon);
      portText = hostPort.slice(colon + 1);
    }
  }
  return { host, portText };
}

function parseServer(
  rest: string,
  dialect: ServerDialect,
  d: UrlDialect,
  fail: (why: string, hint?: string) => never,
): ServerTarget {
  const example = d.url.form;
  if (!rest.startsWith('//')) fail(`there is no // after the scheme (expected ${example})`);
  const afterSlashes = rest.slice(2);
  // The user information ends at the LAST '@': an unencoded '@', '/', '?' or
  // '#' in a password then stays in the password (never in the host or the
  // database name, which are shown). A stray '@' further on makes the URL
  // fail below rather than show part of a password.
  const at = afterSlashes.lastIndexOf('@');
  const userinfo = at >= 0 ? afterSlashes.slice(0, at) : null;
  const tail = at >= 0 ? afterSlashes.slice(at + 1) : afterSlashes;
  let user = '';
  let password = '';
  if (userinfo !== null) {
    const colon = userinfo.indexOf(':');
    user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    password = colon >= 0 ? userinfo.slice(colon + 1) : '';
    if (/[/?#\s]/.test(user)) fail(`the part before the '@' is not USER:PASSWORD (expected ${example})`);
  }
  const q = tail.indexOf('?');
  const beforeQuery = q >= 0 ? tail.slice(0, q) : tail;
  const query = q >= 0 ? tail.slice(q + 1) : '';
  const slash = beforeQuery.indexOf('/');
  const hostPort = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const dbPart = slash >= 0 ? beforeQuery.slice(slash + 1) : '';
  const { host, portText } = hostAndPort(hostPort, fail);
  if (/[\s@]/.test(host) || (!hostPort.startsWith('[') && /[[\]]/.test(host))) fail('the host name is not valid');
  if (portText && !(/^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535))
    fail('the port is not a number from 1 to 65535');
  const params: Record<string, string> = {};
  for (const pair of query ? query.split('&') : []) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const k = unquote((eq >= 0 ? pair.slice(0, eq) : pair).replace(/\+/g, ' '), 'query', fail);
    params[k] = unquote((eq >= 0 ? pair.slice(eq + 1) : '').replace(/\+/g, ' '), 'query', fail);
  }
  // Secrets in the query first: a message about the query must not show them.
  for (const k of ['password', 'passwd', 'sslpassword', 'ssl_key_password']) if (params[k]) registerSecret(params[k]);
  const database = unquote(dbPart, 'database name', fail);
  if (/[\0-\x1f\x7f]/.test(database)) fail('the database name contains control characters');
  const defaults = d.server!;
  const target: ServerTarget = {
    dialect,
    host: unquote(host, 'host name', fail) || (params.host ?? 'localhost'),
    port: portText ? Number(portText) : defaults.defaultPort,
    user: unquote(user, 'user name', fail) || (params.user ?? defaults.defaultUser),
    password: unquote(password, 'password', fail) || queryPassword(dialect, params),
    database,
    socketPath: params.unix_socket ?? params.socket,
    params,
    tls: { use: 'disable', verifyChain: false, verifyHost: false, asked: '' },
    warnings: [],
    display: '',
  };
  registerSecret(target.password);
  if (!database) fail(`it names no database (add /DATABASE after the host: ${example})`);
  // TLS and the other query parameters: refused here, before any connection, when they cannot be honoured.
  const reading = readQuery(dialect, params, fail);
  checkOptionFile(dialect, params, fail);
  target.tls = reading.tls;
  target.warnings = reading.warnings;
  target.display = displayServer(target);
  return target;
}

/** user@host:port/database, never the password. */
export function displayServer(
  t: Pick<ServerTarget, 'dialect' | 'user' | 'host' | 'port' | 'database' | 'socketPath'>,
): string {
  const where = t.socketPath ? `${t.host} (socket ${t.socketPath})` : `${t.host}:${t.port}`;
  return `${t.dialect}://${t.user}@${where}/${t.database}`;
}

// ---- Defence in depth: the passwords of every URL this run was given. ----

const secrets = new Set<string>();

/**
 * Passwords shorter than this are not scrubbed from output: replacing every
 * "pw" in a message would garble it, and such a password is no secret.
 */
const MIN_SCRUBBED = 3;

/** A new run in the same process (runCli, src/cli/run-cli.ts) starts with none: each run scrubs its own. */
export function forgetSecrets(): void {
  secrets.clear();
}

export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < MIN_SCRUBBED) return;
  for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
    if (form.length >= MIN_SCRUBBED) secrets.add(form);
  }
}

/**
 * Registers every password-like part of a text that may be a URL, by taking
 * it apart leniently rather than by matching one pattern: whatever follows
 * the scheme and slashes up to the last '@' is user information, and
 * whatever follows its first ':' the password (raw and percent-decoded);
 * `password=` and `passwd=` query values too. A flag token `--url=...` counts.
 */
export function registerSecretsOf(text: string | undefined): void {
  for (const c of passwordCandidates(text)) registerSecret(c);
}

/** The password-like parts of a text that may be a URL (see registerSecretsOf), raw and percent-decoded. */
export function passwordCandidates(text: string | undefined): string[] {
  if (!text) return [];
  const found: string[] = [];
  let s = text.trim();
  if (s.startsWith('-')) s = s.includes('=') ? s.slice(s.indexOf('=') + 1) : '';
  const scheme = schemeOf(s);
  if (scheme) s = s.slice(scheme.length + 1);
  s = s.replace(/^\/+/, '');
  for (const at of [s.lastIndexOf('@'), s.indexOf('@')]) {
    if (at < 0) continue;
    const userinfo = s.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon < 0) continue;
    const pw = userinfo.slice(colon + 1);
    found.push(pw);
    try {
      found.push(decodeURIComponent(pw));
    } catch {
      // Not decodable: the raw form is enough.
    }
  }
  for (const m of s.matchAll(/[?&](?:password|passwd|sslpassword|ssl_key_password)=([^&#]*)/gi)) {
    found.push(m[1]);
    try {
      found.push(decodeURIComponent(m[1].replace(/\+/g, ' ')));
    } catch {
      // Not decodable: the raw form is enough.
    }
  }
  return found;
}

/** A letter, digit or underscore: what continues a name (eco_wrong, wrong2, wrongful). */
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const NAME_LIKE = /^[\p{L}\p{N}_]+$/u;

/**
 * Replaces secret with ***. A secret that could be part of a name (only
 * letters, digits and `_`: `wrong`, `glance`, `S3cret_2`) is replaced where
 * it stands whole, not where a letter, digit or `_` continues it: the
 * password `wrong` is starred in `password wrong.` and `u:wrong@h` and
 * leaves the database name `eco_wrong` alone (part of a longer name, it says
 * nothing of itself, and the name was going to be shown anyway). Any other
 * secret (`p@ss!`, `a b`, a percent-encoded form) is replaced wherever it appears.
 */
export function starSecret(text: string, secret: string): string {
  if (!secret) return text;
  if (!NAME_LIKE.test(secret)) return text.split(secret).join('***');
  let out = '';
  let from = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
    if (at < from) continue;
    const glued =
      (at > 0 && WORD_CHAR.test(text[at - 1])) ||
      (at + secret.length < text.length && WORD_CHAR.test(text[at + secret.length]));
    if (glued) continue;
    out += `${text.slice(from, at)}***`;
    from = at + secret.length;
  }
  return out + text.slice(from);
}

/** Replaces every registered password (in each of its forms) with *** where it stands whole (starSecret); then the URL pattern, for URLs never registered. */
export function scrubSecrets(text: string): string {
  let out = text;
  // Longest first, so a password that contains another is replaced whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = starSecret(out, s);
  return redactUrl(out);
}

/** Scrubs every string inside a value meant for JSON output (keys stay as they are). */
export function scrubValue<T>(value: T): T {
  if (typeof value === 'string') return scrubSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, scrubValue(v)]),
    ) as T;
  }
  return value;
}

/**
 * The last line of defence for URLs this run never registered (a driver
 * quoting some other URL): replaces the password of any `scheme://user:pw@`.
 * Not how glance-db keeps its own URLs out of output (see the top of this file).
 */
export function redactUrl(text: string): string {
  // Greedy up to the last '@' of the token: an unencoded '@' in a password
  // (p@ss) must not leave the rest of the password behind.
  // USER:PASSWORD@ is the placeholder of glance-db's own hints, left as it is.
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)(?!PASSWORD@)([^\s]*)@/gi, '$1***@');
}
