// Opening a MySQL/MariaDB connection, and the error an operator sees when
// that fails: host, port, database and user named, the password never.
import mysql, { type Connection } from 'mysql2/promise';
import { ConnectionError } from '../errors.js';
import type { ServerTarget } from '../url.js';
import type { DriverConfig } from './driver.js';
import { redactSecret } from './secret.js';

export async function connectMysql(config: DriverConfig): Promise<Connection> {
  const t = config.target as ServerTarget;
  try {
    return await mysql.createConnection({
      host: t.host, port: t.port, user: t.user, password: t.password, database: t.database, socketPath: t.socketPath,
      connectTimeout: config.connectTimeoutMs, charset: t.params.charset === 'utf8' ? 'UTF8_GENERAL_CI' : 'UTF8MB4_GENERAL_CI',
      multipleStatements: false, dateStrings: true, supportBigNumbers: true, bigNumberStrings: false,
    });
  } catch (err) {
    throw connectionError(t, err);
  }
}

export function connectionError(t: ServerTarget, err: unknown): ConnectionError {
  const e = err as { code?: string; message?: string };
  const reason = redactSecret(e.message || e.code || String(err), t.password);
  const hint =
    e.code === 'ER_BAD_DB_ERROR' ? `Create the database first (CREATE DATABASE ${t.database} CHARACTER SET utf8), as for glance-manage.`
      : e.code === 'ER_ACCESS_DENIED_ERROR' ? 'Check the user and password in the URL (the password is not shown).'
        : `Check that MySQL/MariaDB listens on ${t.socketPath ?? `${t.host}:${t.port}`}; --connect-timeout bounds the wait.`;
  return new ConnectionError(`Cannot use MySQL database "${t.database}" at ${t.socketPath ?? `${t.host}:${t.port}`} as user "${t.user}": ${reason}.`, { cause: err, hint });
}

