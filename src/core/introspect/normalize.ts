// One spelling for SQL text the catalogs hand back (trigger bodies,
// functions, views, index predicates), so that two definitions compare
// equal when they differ only in harmless ways: comments, whitespace and
// line breaks, letter case outside string literals, identifier quoting
// ("images", `images`, [images]), the schema or database name the server
// prefixes (public.images, `db`.`images`), and PostgreSQL's dollar-quote
// tags ($function$ for $$). String literals are kept exactly. Anything else
// (a changed condition, another table, another action) changes the result.
import { createHash } from 'node:crypto';

export interface NormalizeOptions {
  /** A schema or database name whose `name.` qualifiers are dropped. */
  qualifier?: string;
  /** MySQL/MariaDB: a backslash escapes the next character inside a string literal. */
  backslashEscapes?: boolean;
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?/y;
const DOLLAR = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;
const OPERATOR = /[-+*/<>=~!@#%^&|?:.]+/y;

function at(re: RegExp, s: string, i: number): string | null {
  re.lastIndex = i;
  const m = re.exec(s);
  return m ? m[0] : null;
}

/** The tokens of `sql`, comments dropped, words lower-cased, quoted identifiers unquoted. */
export function sqlTokens(sql: string, opts: NormalizeOptions = {}): string[] {
  const out: string[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'") {
      let j = i + 1;
      for (;;) {
        if (j >= n) break;
        if (opts.backslashEscapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      out.push(sql.slice(i, j + 1));
      i = j + 1;
    } else if (c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      let name = '';
      while (j < n) {
        if (sql[j] === close && sql[j + 1] === close && c !== '[') {
          name += close;
          j += 2;
        } else if (sql[j] === close) break;
        else name += sql[j++];
      }
      out.push(name.toLowerCase());
      i = j + 1;
    } else if (c === '$' && at(DOLLAR, sql, i)) {
      out.push('$$');
      i += at(DOLLAR, sql, i)!.length;
    } else if (at(WORD, sql, i)) {
      const w = at(WORD, sql, i)!;
      out.push(w.toLowerCase());
      i += w.length;
    } else if (at(NUMBER, sql, i)) {
      const num = at(NUMBER, sql, i)!;
      out.push(num);
      i += num.length;
    } else if (at(OPERATOR, sql, i)) {
      const op = at(OPERATOR, sql, i)!;
      out.push(op);
      i += op.length;
    } else {
      out.push(c);
      i++;
    }
  }
  if (opts.qualifier) {
    const q = opts.qualifier.toLowerCase();
    // `db`.`images` and public.images: the qualifier and its dot go (never a string literal, which keeps its quote).
    for (let k = out.length - 2; k >= 0; k--) if (out[k] === q && out[k + 1] === '.') out.splice(k, 2);
  }
  return out;
}

/** The normalized text: tokens joined by one space, none inside parentheses' edges, before a comma, around a dot, nor between a name and its `(`. */
export function normalizeSql(sql: string, opts: NormalizeOptions = {}): string {
  const t = sqlTokens(sql, opts);
  let out = '';
  for (let k = 0; k < t.length; k++) {
    const prev = t[k - 1];
    const tight =
      k === 0 ||
      prev === '(' ||
      prev === '.' ||
      t[k] === ')' ||
      t[k] === ',' ||
      t[k] === '.' ||
      (t[k] === '(' && /^[a-z_]/.test(prev));
    out += (tight ? '' : ' ') + t[k];
  }
  return out;
}

/** A short fingerprint of a normalized definition, for messages: 16 hex digits of its SHA-256. */
export function definitionHash(normalized: string): string {
  return createHash('sha256').update(normalized, 'utf8').digest('hex').slice(0, 16);
}

/** Objects in one order: type, table, name. */
export function sortObjects<T extends { type: string; table: string | null; name: string }>(objects: T[]): T[] {
  const k = (o: T) => `${o.type}\u0000${o.table ?? ''}\u0000${o.name}`;
  return objects.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}
