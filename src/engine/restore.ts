// Downgrades are not supported (nor were they by glance-manage since Ocata):
// the way back is the backup taken before the upgrade. These are the concrete
// steps for the configured database, with no password in them.
import type { DatabaseTarget } from '../url.js';

export function restoreSteps(target: DatabaseTarget, check: string, backup?: string): string[] {
  const stop = 'Stop every Glance service that uses this database (glance-api and any glance-manage job).';
  if (target.dialect === 'sqlite') {
    const file = backup ?? '/path/to/backup-taken-before-the-upgrade.sqlite';
    return [stop, `Put the backed-up file back in place: cp ${file} ${target.path} && rm -f ${target.path}.lock`, `Check the level: ${check}`, 'Start the Glance services again.'];
  }
  if (target.dialect === 'postgresql') {
    const conn = `-h ${target.socketPath ?? target.host} -p ${target.port} -U ${target.user}`;
    const file = backup ?? 'BACKUP.dump';
    return [
      stop,
      `Recreate the database empty: dropdb ${conn} ${target.database} && createdb ${conn} ${target.database}`,
      `Restore the backup: pg_restore ${conn} -d ${target.database} --no-owner ${file}   (for a plain-SQL dump: psql ${conn} -d ${target.database} -1 -v ON_ERROR_STOP=1 -f BACKUP.sql)`,
      `Check the level: ${check}`,
      'Start the Glance services again. The tools prompt for the password (or read PGPASSWORD / ~/.pgpass).',
    ];
  }
  const conn = target.socketPath ? `-S ${target.socketPath} -u ${target.user} -p` : `-h ${target.host} -P ${target.port} -u ${target.user} -p`;
  const file = backup ?? 'BACKUP.sql';
  return [
    stop,
    `Recreate the database empty: mysql ${conn} -e 'DROP DATABASE \`${target.database}\`; CREATE DATABASE \`${target.database}\` CHARACTER SET utf8'`,
    `Restore the backup: mysql ${conn} ${target.database} < ${file}`,
    `Check the level: ${check}`,
    'Start the Glance services again. -p makes mysql prompt for the password.',
  ];
}
