// What the metadef_* columns of the target database can hold, read from the
// database itself (an older release's tables may differ from the expected
// schema), and the check of every value a load would write against it, done
// before the first write: a value that does not fit is refused with file,
// line and JSON path (exit 28), never stored changed or left to fail half
// way. The limits: the declared length of each column (also on SQLite,
// which does not enforce it, so that what loads there loads on a server),
// the bytes of the dialect's text types (MySQL's text: 65,535), the column's
// character set (MySQL tables Glance made are utf8mb3: no emoji), U+0000
// (PostgreSQL), and unpaired surrogates (stored as U+FFFD everywhere).
import { describeDialect } from '../../core/driver/dialect.js';
import type { Driver } from '../../core/driver/driver.js';
import { introspect } from '../../core/introspect/index.js';
import { displayPath } from '../../core/manifest/validate.js';
import { stringify } from './json.js';
import type { NamespaceFile } from './model.js';

export interface ColumnLimit {
  /** The type as introspected, for messages. */
  type: string;
  /** Characters (code points) the column holds: VARCHAR(n). */
  chars: number | null;
  /** Bytes the column's type holds (MySQL's text types). */
  bytes: number | null;
  /** MySQL: the column's character set (from its collation); null where the column holds any Unicode text. */
  charset: string | null;
  nul: boolean;
}

export interface Limits {
  dialect: string;
  columns: Map<string, ColumnLimit>;
}

const UNLIMITED: ColumnLimit = { type: 'text', chars: null, bytes: null, charset: null, nul: true };

/** The limits of every metadef_* column, as the live database declares them. */
export async function readLimits(driver: Driver): Promise<Limits> {
  const model = await introspect(driver);
  const text = describeDialect(driver.dialect).text;
  const columns = new Map<string, ColumnLimit>();
  for (const [table, t] of Object.entries(model.tables)) {
    if (!table.startsWith('metadef_')) continue;
    for (const c of Object.values(t.columns)) {
      const chars = /^(?:varchar|character varying|nvarchar|char|character|nchar)\((\d+)\)/.exec(c.type);
      const collation = c.collation ?? t.options.collation ?? null;
      columns.set(`${table}.${c.name}`, {
        type: c.type,
        chars: chars ? Number(chars[1]) : null,
        bytes: text.typeBytes[c.type] ?? null,
        charset: collation ? collation.split('_')[0] : null,
        nul: text.nul,
      });
    }
  }
  return { dialect: driver.dialect, columns };
}

const limitOf = (limits: Limits, column: string) => limits.columns.get(column) ?? UNLIMITED;

// MySQL's latin1 is Windows-1252: ASCII, U+00A0-U+00FF, and these.
const CP1252 = new Set(
  [...'€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ'].map((c) => c.codePointAt(0)!).concat([0x81, 0x8d, 0x8f, 0x90, 0x9d]),
);
const BMP_ONLY = new Set(['utf8', 'utf8mb3', 'ucs2']);
const ANY = new Set(['utf8mb4', 'utf16', 'utf16le', 'utf32', 'binary']);

/** Whether a character set holds the code point; null when glance-db does not know the set (not checked). */
function holds(charset: string | null, cp: number): boolean | null {
  if (charset === null || ANY.has(charset)) return true;
  if (BMP_ONLY.has(charset)) return cp <= 0xffff;
  if (charset === 'latin1') return cp < 0x80 || (cp >= 0xa0 && cp <= 0xff) || CP1252.has(cp);
  if (charset === 'ascii') return cp < 0x80;
  return null;
}

/** The highest code point a JSON text column takes as it is: above it, characters are written as \u escapes (the same JSON value). */
export function jsonMaxCodePoint(limits: Limits, column: string): number {
  const cs = limitOf(limits, column).charset;
  if (cs === null || ANY.has(cs)) return 0x10ffff;
  return BMP_ONLY.has(cs) ? 0xffff : 0x7f;
}

function byteLength(s: string, charset: string | null): number {
  if (charset === 'latin1' || charset === 'ascii') return [...s].length;
  if (charset === 'ucs2' || charset === 'utf16' || charset === 'utf16le') return Buffer.byteLength(s, 'utf16le');
  if (charset === 'utf32') return 4 * [...s].length;
  return Buffer.byteLength(s, 'utf8');
}

const codePoint = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why the value cannot be stored in the column as it is, or null. */
export function valueProblem(limits: Limits, column: string, value: string, isJson = false): string | null {
  const lim = limitOf(limits, column);
  if (!isJson) {
    let i = 0;
    for (const ch of value) {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0xd800 && cp <= 0xdfff)
        return `an unpaired surrogate (\\u${cp.toString(16)}) at character ${i + 1} is not a character: every database would store U+FFFD in its place`;
      if (cp === 0 && !lim.nul)
        return `U+0000 (\\u0000) at character ${i + 1} cannot be stored in a ${limits.dialect} text column`;
      if (holds(lim.charset, cp) === false) {
        const extra = BMP_ONLY.has(lim.charset!) ? ': no character beyond U+FFFF, such as an emoji' : '';
        return `the character ${codePoint(cp)} ("${ch}") at character ${i + 1} is not in the character set of column ${column} (${lim.charset}${extra})`;
      }
      i++;
    }
  }
  if (lim.chars !== null) {
    const n = [...value].length;
    if (n > lim.chars)
      return `${n} characters${isJson ? ' of JSON' : ''}, more than column ${column} holds (${lim.type}: ${lim.chars})`;
  }
  if (lim.bytes !== null) {
    const n = byteLength(value, lim.charset);
    if (n > lim.bytes)
      return `${n} bytes${isJson ? ' of JSON' : ''}, more than column ${column} holds (${limits.dialect} ${lim.type}: ${lim.bytes} bytes)`;
  }
  return null;
}

/** Every value of one file that the database cannot hold as it is, as `FILE:LINE: PATH: problem`. */
export function namespaceProblems(f: NamespaceFile, limits: Limits): string[] {
  const out: string[] = [];
  const ns = f.ns;
  const check = (column: string, value: string | null, path: (string | number)[], isJson = false) => {
    if (value === null) return;
    const p = valueProblem(limits, column, value, isJson);
    if (p) out.push(`${f.file}:${f.line(path)}: ${displayPath(path)}: ${p}`);
  };
  const json = (column: string, value: unknown) => stringify(value, { maxCodePoint: jsonMaxCodePoint(limits, column) });
  check('metadef_namespaces.namespace', ns.namespace, ['namespace']);
  check('metadef_namespaces.display_name', ns.displayName, ['display_name']);
  check('metadef_namespaces.description', ns.description, ['description']);
  check('metadef_namespaces.visibility', ns.visibility, ['visibility']);
  check('metadef_namespaces.owner', ns.owner, ['owner']);
  ns.associations.forEach((a, i) => {
    check('metadef_resource_types.name', a.name, ['resource_type_associations', i, 'name']);
    check('metadef_namespace_resource_types.prefix', a.prefix, ['resource_type_associations', i, 'prefix']);
    check('metadef_namespace_resource_types.properties_target', a.propertiesTarget, [
      'resource_type_associations',
      i,
      'properties_target',
    ]);
  });
  for (const p of ns.properties) {
    check('metadef_properties.name', p.name, ['properties', p.name]);
    check(
      'metadef_properties.json_schema',
      json('metadef_properties.json_schema', p.schema),
      ['properties', p.name],
      true,
    );
  }
  ns.objects.forEach((o, i) => {
    check('metadef_objects.name', o.name, ['objects', i, 'name']);
    check('metadef_objects.description', o.description, ['objects', i, 'description']);
    o.required.forEach((r, j) => {
      // Glance keeps the list comma-joined and splits it on read.
      if (r.includes(','))
        out.push(
          `${f.file}:${f.line(['objects', i, 'required', j])}: ${displayPath(['objects', i, 'required', j])}: "${r}" holds a comma: Glance stores the required list comma-joined and would read it back as two names`,
        );
    });
    check('metadef_objects.required', o.required.length > 0 ? o.required.join(',') : null, ['objects', i, 'required']);
    check(
      'metadef_objects.json_schema',
      json('metadef_objects.json_schema', o.properties),
      ['objects', i, 'properties'],
      true,
    );
  });
  ns.tags.forEach((t, i) => check('metadef_tags.name', t, ['tags', i, 'name']));
  return out;
}
