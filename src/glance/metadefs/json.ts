// JSON for metadata definitions, without recursion and without losing a
// value: the files' property schemas go into text columns (json_schema) as
// they were written, however deep (up to the limit load sets) and whatever
// their numbers. JSON.parse turned 9007199254740993 into ...992, a 30-digit
// number into a float and -1e999 into -Infinity (stored as null), and its
// recursive siblings (JSON.stringify, a deep compare) overflowed the stack
// on a property a few thousand levels deep. Here every number keeps its
// source text (JsonNumber), and parse, compare, serialize and depth walk an
// explicit stack.

/** A JSON number as it was written: its text is what gets stored. */
export class JsonNumber {
  constructor(readonly text: string) {}
  /** For code that does arithmetic or JSON.stringify: the nearest double. */
  valueOf(): number {
    return Number(this.text);
  }
  toJSON(): number {
    return Number(this.text);
  }
}

const isNumber = (v: unknown): v is number | JsonNumber => typeof v === 'number' || v instanceof JsonNumber;
const numberText = (v: number | JsonNumber) => (typeof v === 'number' ? String(v) : v.text);

/**
 * The exact decimal value of a number's text, in one canonical form
 * (`-`, the significant digits, `e`, the exponent of the last digit), so that
 * 1.0, 1 and 10e-1 compare equal and 9007199254740993 does not equal ...992.
 */
export function canonicalNumber(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  let digits = `${m[2]}${m[3] ?? ''}`.replace(/^0+/, '');
  if (digits === '') return '0';
  let exp = BigInt(m[4] ?? '0') - BigInt((m[3] ?? '').length);
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exp += BigInt(trailing);
  return `${m[1]}${digits}e${exp}`;
}

/** Deep equality of JSON values; key order does not matter, array order does; numbers by exact value. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (isNumber(x) || isNumber(y)) {
      if (!isNumber(x) || !isNumber(y) || canonicalNumber(numberText(x)) !== canonicalNumber(numberText(y)))
        return false;
      continue;
    }
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x)) {
      const yy = y as unknown[];
      if (x.length !== yy.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], yy[i]]);
      continue;
    }
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
      stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
    }
  }
  return true;
}

/** How many containers deep a value nests: a scalar 0, `{}` 1, `{"a": []}` 2. */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null || v instanceof JsonNumber) continue;
    max = Math.max(max, d + 1);
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return max;
}

/** A copy with every JsonNumber a plain number: what the JSON Schema validator reads. */
export function toPlain(value: unknown): unknown {
  const conv = (v: unknown): unknown =>
    v instanceof JsonNumber
      ? Number(v.text)
      : Array.isArray(v)
        ? new Array(v.length)
        : typeof v === 'object' && v !== null
          ? {}
          : v;
  const root = conv(value);
  const stack: [unknown, unknown][] = [[value, root]];
  while (stack.length > 0) {
    const [from, to] = stack.pop()!;
    if (typeof from !== 'object' || from === null || from instanceof JsonNumber) continue;
    for (const [k, v] of Object.entries(from)) {
      const c = conv(v);
      setMember(to as Record<string, unknown>, k, c);
      if (c !== v) stack.push([v, c]);
    }
  }
  return root;
}

/** obj[key] = value, as JSON.parse does it: "__proto__" becomes an own key, not the prototype. */
export function setMember(obj: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else (obj as Record<string, unknown>)[key] = value;
}

export interface StringifyOptions {
  /** Spaces per level, as JSON.stringify's third argument; 0 for the compact form. */
  indent?: number;
  /** Characters above this code point are written as \u escapes (a column that cannot hold them); default none. */
  maxCodePoint?: number;
}

/** JSON text of a value: JSON.stringify's layout, numbers as written, no recursion. */
export function stringify(value: unknown, opts: StringifyOptions = {}): string {
  const indent = opts.indent ?? 0;
  const max = opts.maxCodePoint ?? 0x10ffff;
  const str = (s: string) => {
    const t = JSON.stringify(s);
    if (max >= 0x10ffff) return t;
    // One code point per match; one beyond U+FFFF is written as its surrogate pair.
    const hex = (unit: number) => `\\u${unit.toString(16).padStart(4, '0')}`;
    return t.replace(/[^\0-\x7f]/gu, (c) =>
      c.codePointAt(0)! <= max
        ? c
        : c.length === 2
          ? hex(c.charCodeAt(0)) + hex(c.charCodeAt(1))
          : hex(c.charCodeAt(0)),
    );
  };
  const scalar = (v: unknown): string | null => {
    if (v === null || v === undefined) return 'null';
    if (v instanceof JsonNumber) return v.text;
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'string') return str(v);
    return null;
  };
  const out: string[] = [];
  const nl = (depth: number) => (indent > 0 ? `\n${' '.repeat(indent * depth)}` : '');
  const colon = indent > 0 ? ': ' : ':';
  // Work items: a value to write (with its depth), or a literal piece of text.
  type Item = { v: unknown; d: number } | string;
  const stack: Item[] = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const s = scalar(item.v);
    if (s !== null) {
      out.push(s);
      continue;
    }
    const { v, d } = item;
    const arr = Array.isArray(v);
    const entries: [string | null, unknown][] = arr
      ? (v as unknown[]).map((x) => [null, x])
      : Object.entries(v as object).filter(([, x]) => x !== undefined);
    if (entries.length === 0) {
      out.push(arr ? '[]' : '{}');
      continue;
    }
    out.push(arr ? '[' : '{');
    // Pushed in reverse: the stack pops them in order.
    stack.push(`${nl(d)}${arr ? ']' : '}'}`);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i];
      stack.push({ v: x, d: d + 1 });
      stack.push(`${i > 0 ? ',' : ''}${nl(d + 1)}${k === null ? '' : `${str(k)}${colon}`}`);
    }
  }
  return out.join('');
}

/**
 * A number as Python's json module writes it after reading `text`
 * (json.loads, then json.dumps): an integer exactly (-0 is 0); anything with
 * a fraction or an exponent as a Python float, in repr's form (1.0, 1e+16,
 * 1e-05, Infinity).
 */
export function pythonNumber(text: string): string {
  if (/^-?\d+$/.test(text)) return BigInt(text).toString();
  const x = Number(text);
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // JavaScript's shortest round-trip digits are Python's repr digits; only the layout differs.
  const [m, e] = Math.abs(x).toExponential().split('e');
  const digits = m.replace('.', '');
  const exp = Number(e);
  const sign = x < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.padEnd(exp + 1, '0');
    return `${sign}${whole.slice(0, exp + 1)}.${whole.slice(exp + 1) || '0'}`;
  }
  return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** A string as Python's json.dumps writes it (ensure_ascii): everything outside space to tilde escaped, UTF-16 units as lowercase \u escapes. */
export function pythonString(s: string): string {
  const short: Record<string, string> = {
    '"': '\\"',
    '\\': '\\\\',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
  };
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const u = s.charCodeAt(i);
    out += short[c] ?? (u < 0x20 || u > 0x7e ? `\\u${u.toString(16).padStart(4, '0')}` : c);
  }
  return `${out}"`;
}

/**
 * JSON text as Python's json.dumps(value) writes it with its defaults, the
 * form glance-manage db export_metadefs writes: one line, ", " and ": "
 * between items, ASCII only, numbers as Python reads and writes them back.
 * No recursion.
 */
export function pythonDumps(value: unknown): string {
  const out: string[] = [];
  type Item = { v: unknown } | string;
  const stack: Item[] = [{ v: value }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const v = item.v;
    if (v === null || v === undefined) out.push('null');
    else if (v instanceof JsonNumber) out.push(pythonNumber(v.text));
    else if (typeof v === 'number') out.push(Number.isInteger(v) ? String(v) : pythonNumber(String(v)));
    else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
    else if (typeof v === 'string') out.push(pythonString(v));
    else {
      const arr = Array.isArray(v);
      const entries: [string | null, unknown][] = arr
        ? (v as unknown[]).map((x) => [null, x])
        : Object.entries(v as object);
      out.push(arr ? '[' : '{');
      stack.push(arr ? ']' : '}');
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i];
        stack.push({ v: x });
        stack.push(`${i > 0 ? ', ' : ''}${k === null ? '' : `${pythonString(k)}: `}`);
      }
    }
  }
  return out.join('');
}

/** The byte offset of the first byte that is not UTF-8 (overlong forms, surrogates and code points past U+10FFFF included), or -1. */
export function invalidUtf8At(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [n, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [n, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [n, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}
