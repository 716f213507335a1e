// Reads `[database] connection` from Glance's own config file
// (/etc/glance/glance-api.conf), so operators never retype credentials.
// oslo.config INI: `key = value` or `key: value`, `#` and `;` comments,
// indented lines continue the previous value.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export function connectionFromGlanceConfig(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  let section = '';
  let found: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1].trim().toLowerCase();
      continue;
    }
    const kv = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (section === 'database' && kv && kv[1].toLowerCase() === 'connection') found = kv[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  if (!found) {
    throw new ConfigError(`${path} has no [database] connection setting.`, { hint: 'Pass the database URL with --url instead.' });
  }
  return found;
}
