// The JSON parser of the metadata definitions: JSON as Glance (Python's json)
// reads it, with every number kept as written (JsonNumber), "__proto__" as an
// own key, where each member starts (for messages that point at a line), and
// the values nested too deep or numbers out of a double's range reported as
// problems instead of thrown. Written as a loop over a stack, not recursion:
// a deep document cannot overflow the call stack.
import { JsonNumber, setMember } from './json.js';

/** Where a problem is: its character offset in the text, and the JSON path to the value. */
export interface JsonProblem {
  offset: number;
  path: (string | number)[];
  message: string;
}

export class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ParseOptions {
  /** Containers nested deeper than this are a problem (reported, the value not read further). */
  maxDepth?: number;
  /** Record where every member starts, for locate(). */
  positions?: boolean;
  /** Numbers a double cannot hold at all (overflow to infinity, underflow of a non-zero to 0) are problems. */
  checkRange?: boolean;
}

export interface Parsed {
  value: unknown;
  /** Depth and number-range problems; the value is complete only when there are none. */
  problems: JsonProblem[];
  /** The offset where the value at a path starts (the deepest part of the path that exists). */
  locate(path: (string | number)[]): number;
}

const WS = /[ \t\n\r]*/y;
const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PLAIN = /[^"\\\0-\x1f]*/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

const short = (t: string) => (t.length > 40 ? `${t.slice(0, 37)}...` : t);

/** Parses one JSON text; throws JsonSyntaxError at the first offset that is not JSON (where JSON.parse would stop). */
export function parseJson(text: string, opts: ParseOptions = {}): Parsed {
  return new Parser(text, opts).parse();
}

/** An open container: where the next value goes. */
interface Frame {
  container: Record<string, unknown> | unknown[];
  key: string | number;
  positions: Map<string | number, number> | null;
}

class Parser {
  private readonly maxDepth: number;
  private readonly where: WeakMap<object, Map<string | number, number>> | null;
  private readonly problems: JsonProblem[] = [];
  private i = 0;
  private readonly stack: Frame[] = [];
  private root: unknown;

  constructor(
    private readonly text: string,
    private readonly opts: ParseOptions,
  ) {
    this.maxDepth = opts.maxDepth ?? Infinity;
    this.where = opts.positions ? new WeakMap<object, Map<string | number, number>>() : null;
  }

  parse(): Parsed {
    const text = this.text;
    this.ws();
    // state: 'value' expects a value; 'after' has just finished one.
    let state: 'value' | 'after' | 'done' = 'value';
    while (state !== 'done') state = state === 'value' ? this.value() : this.after();
    if (this.i < text.length) this.fail(`unexpected ${JSON.stringify(text[this.i])} after the end of the document`);
    const { root, where } = this;
    return {
      value: root,
      problems: this.problems,
      locate(p) {
        let node: unknown = root;
        let at = 0;
        for (const seg of p) {
          const m = where && typeof node === 'object' && node !== null ? where.get(node) : undefined;
          if (!m?.has(seg)) break;
          at = m.get(seg)!;
          node = (node as Record<string | number, unknown>)[seg];
        }
        return at;
      },
    };
  }

  private fail(message: string, at = this.i): never {
    throw new JsonSyntaxError(at, at >= this.text.length ? 'unexpected end of the file' : message);
  }

  private ws(): void {
    WS.lastIndex = this.i;
    WS.test(this.text);
    this.i = WS.lastIndex;
  }

  private unexpected(): never {
    return this.fail(`unexpected ${JSON.stringify(this.text[this.i])}`);
  }

  private path(): (string | number)[] {
    return this.stack.map((f) => f.key);
  }

  /** Puts a value into the open container (or makes it the root). */
  private put(v: unknown, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) return void (this.root = v);
    setMember(top.container, top.key, v);
    top.positions?.set(top.key, at);
  }

  private readString(): string {
    const text = this.text;
    // At the opening quote.
    this.i++;
    let s = '';
    for (;;) {
      PLAIN.lastIndex = this.i;
      PLAIN.test(text);
      s += text.slice(this.i, PLAIN.lastIndex);
      this.i = PLAIN.lastIndex;
      const c = text[this.i];
      if (c === '"') {
        this.i++;
        return s;
      }
      if (c === undefined) this.fail('unterminated string');
      if (c !== '\\') this.fail('a control character in a string (write it as an escape such as \\n)');
      const e = text[this.i + 1];
      if (e === 'u') {
        const hex = text.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape', this.i);
        s += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        s += ESCAPES[e];
        this.i += 2;
      } else this.fail('bad escape', this.i);
    }
  }

  /** At a value: reads a scalar whole, or opens a container; says what comes next. */
  private value(): 'value' | 'after' {
    const text = this.text;
    const at = this.i;
    const c = text[at];
    let state: 'value' | 'after' = 'after';
    if (c === '{' || c === '[') state = this.open(c, at);
    else if (c === '"') this.put(this.readString(), at);
    else if (c === 't' && text.startsWith('true', at)) this.literal(true, 4, at);
    else if (c === 'f' && text.startsWith('false', at)) this.literal(false, 5, at);
    else if (c === 'n' && text.startsWith('null', at)) this.literal(null, 4, at);
    else this.number(at);
    if (state === 'value') this.ws();
    return state;
  }

  private literal(v: boolean | null, length: number, at: number): void {
    this.put(v, at);
    this.i += length;
  }

  /** At { or [: the container, and its first key; an empty one is finished at once, one too deep skipped. */
  private open(c: '{' | '[', at: number): 'value' | 'after' {
    const text = this.text;
    const container: Record<string, unknown> | unknown[] = c === '{' ? {} : [];
    this.put(container, at);
    this.i++;
    this.ws();
    if (this.stack.length + 1 > this.maxDepth) {
      this.problems.push({ offset: at, path: this.path(), message: `nested more than ${this.maxDepth} levels deep` });
      // The rest of this value is skipped, still checked for syntax, without building it.
      this.skipNested(c);
      return 'after';
    }
    const positions = this.where ? new Map<string | number, number>() : null;
    if (positions) this.where!.set(container, positions);
    if (c === '[') {
      if (text[this.i] === ']') {
        this.i++;
        return 'after';
      }
      this.stack.push({ container, key: 0, positions });
      return 'value';
    }
    if (text[this.i] === '}') {
      this.i++;
      return 'after';
    }
    if (text[this.i] !== '"') this.unexpected();
    const k = this.readString();
    this.ws();
    if (text[this.i] !== ':') this.fail(`expected ":" after the key ${JSON.stringify(k)}`);
    this.i++;
    this.stack.push({ container, key: k, positions });
    return 'value';
  }

  private number(at: number): void {
    NUM.lastIndex = this.i;
    const m = NUM.exec(this.text);
    if (!m) this.unexpected();
    const t = m![0];
    this.i += t.length;
    if (this.opts.checkRange) {
      const n = Number(t);
      if (!Number.isFinite(n))
        this.problems.push({
          offset: at,
          path: this.path(),
          message: `the number ${short(t)} is out of range: beyond ±1.8e308, Glance (Python) would read it as infinity`,
        });
      else if (n === 0 && /[1-9]/.test(t.replace(/[eE].*$/, '')))
        this.problems.push({
          offset: at,
          path: this.path(),
          message: `the number ${short(t)} is out of range: too close to 0, Glance (Python) would read it as 0`,
        });
    }
    this.put(new JsonNumber(t), at);
  }

  /** After a value: the next item or member, the end of a container, or the end of the document ('done'). */
  private after(): 'value' | 'after' | 'done' {
    const text = this.text;
    this.ws();
    const top = this.stack[this.stack.length - 1];
    if (!top) return 'done';
    const c = text[this.i];
    if (Array.isArray(top.container)) {
      if (c === ',') {
        this.i++;
        this.ws();
        top.key = (top.key as number) + 1;
        return 'value';
      }
      if (c !== ']') this.fail(`expected "," or "]" after an array item`);
      this.i++;
      this.stack.pop();
      return 'after';
    }
    if (c === ',') {
      this.i++;
      this.ws();
      if (text[this.i] !== '"') this.unexpected();
      top.key = this.readString();
      this.ws();
      if (text[this.i] !== ':') this.fail(`expected ":" after the key ${JSON.stringify(top.key)}`);
      this.i++;
      this.ws();
      return 'value';
    }
    if (c !== '}') this.fail(`expected "," or "}" after a member`);
    this.i++;
    this.stack.pop();
    return 'after';
  }

  /** Past an opening bracket too deep to keep: walks to its matching close, checking the syntax loosely. */
  private skipNested(open: string): void {
    let depth = 1;
    const closes: string[] = [open === '{' ? '}' : ']'];
    while (depth > 0) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('unexpected end of the file');
      if (c === '"') {
        this.readString();
        continue;
      }
      if (c === '{' || c === '[') {
        depth++;
        closes.push(c === '{' ? '}' : ']');
      } else if (c === '}' || c === ']') {
        if (closes.pop() !== c) this.unexpected();
        depth--;
      }
      this.i++;
    }
  }
}
