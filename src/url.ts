// Database URLs: glance-db's own forms and the oslo.db/SQLAlchemy forms found
// in glance-api.conf. Every path that shows a URL goes through redactUrl():
// golang-migrate leaked passwords on URL-parse errors (issue 1242), so a URL
// that fails to parse is never echoed raw.
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './errors.js';

export type Dialect = 'sqlite' | 'postgresql' | 'mysql';

export interface SqliteTarget {
  dialect: 'sqlite';
  /** Absolute path of the database file. */
  path: string;
  /** The URL with nothing secret in it, for messages. */
  display: string;
}

export interface ServerTarget {
  dialect: 'postgresql' | 'mysql';
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** MySQL unix socket from `?unix_socket=` or `?socket=`. */
  socketPath?: string;
  params: Record<string, string>;
  display: string;
}

export type DatabaseTarget = SqliteTarget | ServerTarget;

const SCHEMES: Record<string, Dialect> = {
  sqlite: 'sqlite',
  postgresql: 'postgresql',
  postgres: 'postgresql',
  'postgresql+psycopg2': 'postgresql',
  'postgresql+psycopg': 'postgresql',
  'postgresql+pg8000': 'postgresql',
  mysql: 'mysql',
  mariadb: 'mysql',
  'mysql+pymysql': 'mysql',
  'mysql+mysqldb': 'mysql',
  'mysql+mysqlconnector': 'mysql',
  'mariadb+pymysql': 'mysql',
};

/** Replaces the password of any `scheme://user:password@` in text with `***`. */
export function redactUrl(text: string): string {
  // Greedy up to the last '@' of the token: an unencoded '@' in a password
  // (p@ss) must not leave the rest of the password behind.
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@');
}

export function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1].toLowerCase() : null;
}

/**
 * Parses a database URL. Relative SQLite paths are resolved against baseDir
 * (the manifest's folder for a URL from the manifest, the working directory
 * for --url and GLANCE_DB_URL).
 */
export function parseDatabaseUrl(url: string, baseDir: string): DatabaseTarget {
  const scheme = schemeOf(url.trim());
  const dialect = scheme ? SCHEMES[scheme] : undefined;
  if (!dialect) {
    throw new ConfigError(
      `Unsupported database URL ${scheme ? `scheme "${scheme}"` : `"${redactUrl(url).slice(0, 80)}"`}: glance-db speaks ` +
        'sqlite:PATH, postgresql:// (also postgres://, postgresql+psycopg2://) and mysql:// (also mariadb://, mysql+pymysql://).',
    );
  }
  return dialect === 'sqlite' ? parseSqlite(url.trim(), baseDir) : parseServer(url.trim(), dialect);
}

function parseSqlite(url: string, baseDir: string): SqliteTarget {
  // sqlite:PATH is glance-db's form; sqlite:///rel and sqlite:////abs are SQLAlchemy's.
  let rest = url.slice(url.indexOf(':') + 1);
  if (rest.startsWith('///')) rest = rest.slice(3);
  else if (rest.startsWith('//')) {
    throw new ConfigError(`SQLite URL "${url}" names a host; use sqlite:PATH or sqlite:///PATH.`);
  }
  rest = rest.split('?')[0];
  if (!rest || rest === ':memory:') {
    throw new ConfigError(`SQLite URL "${url}" has no file path; use for example sqlite:glance.sqlite.`);
  }
  const path = isAbsolute(rest) ? rest : resolve(baseDir, rest);
  return { dialect: 'sqlite', path, display: `sqlite:${path}` };
}

function parseServer(url: string, dialect: 'postgresql' | 'mysql'): ServerTarget {
  let parsed: URL;
  try {
    // WHATWG URL only knows special schemes' hosts; a neutral scheme keeps parsing uniform.
    parsed = new URL(`db://${url.slice(url.indexOf('://') + 3)}`);
    if (!url.includes('://')) throw new Error('no //');
  } catch {
    throw new ConfigError(`Malformed ${dialect} URL "${redactUrl(url)}": expected ${dialect}://user:password@host:port/database.`);
  }
  const params = Object.fromEntries(parsed.searchParams.entries());
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const defaultPort = dialect === 'postgresql' ? 5432 : 3306;
  const target: ServerTarget = {
    dialect,
    host: decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')) || (params.host ?? 'localhost'),
    port: parsed.port ? Number(parsed.port) : defaultPort,
    user: decodeURIComponent(parsed.username) || (params.user ?? (dialect === 'postgresql' ? 'postgres' : 'root')),
    password: decodeURIComponent(parsed.password),
    database,
    socketPath: params.unix_socket ?? params.socket,
    params,
    display: '',
  };
  if (!database) {
    throw new ConfigError(`The ${dialect} URL "${redactUrl(url)}" names no database; add /DATABASE after the host.`);
  }
  target.display = displayServer(target);
  return target;
}

/** user@host:port/database, never the password. */
export function displayServer(t: Pick<ServerTarget, 'dialect' | 'user' | 'host' | 'port' | 'database' | 'socketPath'>): string {
  const where = t.socketPath ? `${t.host} (socket ${t.socketPath})` : `${t.host}:${t.port}`;
  return `${t.dialect}://${t.user}@${where}/${t.database}`;
}
