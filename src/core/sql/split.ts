// Splits a migration file into statements, dialect-aware: a `;` inside a
// string, a quoted identifier, a comment, a PostgreSQL dollar quote or the
// BEGIN ... END body of a trigger/routine does not end a statement. Used by
// every driver: slonik takes one statement per query, MySQL progress is
// recorded per statement, and every error is reported as file:line:column.
// One left-to-right pass: linear in the size of the file. What counts as a
// comment or a quote is each dialect's SplitRules (src/dialects/<name>/description.ts).
import type { Statement } from '../driver/statement.js';
import { describeDialect, type Dialect, type SplitRules } from '../driver/dialect.js';

export type { Statement } from '../driver/statement.js';

const ROUTINE = /^create\s+(?:or\s+replace\s+)?(?:definer\s*=\s*\S+\s+)?(?:temp\w*\s+)?(?:constraint\s+)?(?:trigger|function|procedure|event)\b/i;
/** MySQL ends these blocks with END IF / END LOOP ...: they were never counted as openings. */
const UNCOUNTED_ENDS = new Set(['if', 'loop', 'while', 'repeat']);

/** 1-based line/column of a 0-based offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

class Scanner {
  private i = 0;
  private start = -1;
  private depth = 0;
  private readonly spans: [number, number][] = [];

  constructor(private readonly sql: string, private readonly rules: SplitRules) {}

  run(): [number, number][] {
    const s = this.sql;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === ';' && this.depth === 0) {
        this.end(this.i);
        this.i++;
      } else if (/\s/.test(c)) this.i++;
      else if (this.comment()) continue;
      else {
        if (this.start < 0) this.start = this.i;
        this.token();
      }
    }
    this.end(s.length);
    return this.spans;
  }

  private end(at: number): void {
    if (this.start >= 0) this.spans.push([this.start, at]);
    this.start = -1;
    this.depth = 0;
  }

  private fail(what: string, from: number): never {
    const { line, column } = lineColumnAt(this.sql, from);
    throw new Error(`unterminated ${what} starting at line ${line}, column ${column}`);
  }

  /** Skips a comment at the cursor; false when there is none. */
  private comment(): boolean {
    const s = this.sql;
    const two = s.slice(this.i, this.i + 2);
    if (two === '--' && (!this.rules.lineCommentNeedsSpace || /[\s]/.test(s[this.i + 2] ?? ' '))) return this.lineComment();
    if (s[this.i] === '#' && this.rules.hashComments) return this.lineComment();
    if (two === '/*' && !(this.rules.executableComments && s[this.i + 2] === '!')) {
      this.blockComment();
      return true;
    }
    return false;
  }

  private lineComment(): true {
    const nl = this.sql.indexOf('\n', this.i);
    this.i = nl < 0 ? this.sql.length : nl + 1;
    return true;
  }

  private blockComment(): void {
    const from = this.i;
    let nest = 0;
    const nested = this.rules.nestedBlockComments;
    while (this.i < this.sql.length) {
      const two = this.sql.slice(this.i, this.i + 2);
      if (two === '/*') {
        nest++;
        this.i += 2;
      } else if (two === '*/') {
        nest--;
        this.i += 2;
        if (nest === 0 || !nested) return;
      } else this.i++;
    }
    this.fail('comment', from);
  }

  /** One token of a statement: a quoted thing, a word, or a single character. */
  private token(): void {
    const s = this.sql;
    const c = s[this.i];
    const r = this.rules;
    if (c === "'") return this.quoted("'", r.backslashEscapes || this.isEString(), 'string');
    if (c === '"') return this.quoted('"', r.doubleQuotedStrings && r.backslashEscapes, r.doubleQuotedStrings ? 'string' : 'quoted identifier');
    if (c === '`' && r.backtickIdentifiers) return this.quoted('`', false, 'quoted identifier');
    if (c === '[' && r.bracketIdentifiers) return this.bracket();
    if (c === '$' && r.dollarQuotes && !isWordChar(s[this.i - 1]) && this.dollar()) return;
    // Only an executable comment (/*! ... */) gets here: comment() skipped every other.
    if (c === '/' && s[this.i + 1] === '*') return this.executableComment();
    if (/[A-Za-z_]/.test(c)) return this.word();
    this.i++;
  }

  private isEString(): boolean {
    const p = this.sql[this.i - 1];
    return this.rules.eStrings && (p === 'E' || p === 'e') && !isWordChar(this.sql[this.i - 2]);
  }

  private quoted(q: string, backslash: boolean, what: string): void {
    const from = this.i;
    const s = this.sql;
    this.i++;
    while (this.i < s.length) {
      const c = s[this.i];
      if (backslash && c === '\\') this.i += 2;
      else if (c === q && s[this.i + 1] === q) this.i += 2;
      else if (c === q) {
        this.i++;
        return;
      } else this.i++;
    }
    this.fail(what, from);
  }

  private bracket(): void {
    const close = this.sql.indexOf(']', this.i);
    if (close < 0) this.fail('quoted identifier', this.i);
    this.i = close + 1;
  }

  /** $tag$ ... $tag$; false when the `$` does not open one ($1 parameters). */
  private dollar(): boolean {
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(this.sql.slice(this.i, this.i + 64));
    if (!m) return false;
    const close = this.sql.indexOf(m[0], this.i + m[0].length);
    if (close < 0) this.fail('dollar-quoted string', this.i);
    this.i = close + m[0].length;
    return true;
  }

  private executableComment(): void {
    const close = this.sql.indexOf('*/', this.i + 2);
    if (close < 0) this.fail('comment', this.i);
    this.i = close + 2;
  }

  /** Words matter only for BEGIN ... END bodies of routines and triggers. */
  private word(): void {
    const from = this.i;
    while (isWordChar(this.sql[this.i])) this.i++;
    const w = this.sql.slice(from, this.i).toLowerCase();
    if (w === 'begin') this.begin();
    else if (w === 'case' && this.depth > 0) this.depth++;
    else if (w === 'end' && this.depth > 0) this.end_();
  }

  /** END closes a BEGIN or CASE; END IF / LOOP / WHILE / REPEAT close nothing counted. END CASE closes a CASE. */
  private end_(): void {
    const next = this.nextWord();
    if (UNCOUNTED_ENDS.has(next) || next === 'case') this.skipWord();
    if (!UNCOUNTED_ENDS.has(next)) this.depth--;
  }

  private skipWord(): void {
    while (/\s/.test(this.sql[this.i] ?? '')) this.i++;
    while (isWordChar(this.sql[this.i])) this.i++;
  }

  private begin(): void {
    if (this.depth > 0) this.depth++;
    else if (ROUTINE.test(this.sql.slice(this.start, this.i))) this.depth = 1;
  }

  private nextWord(): string {
    const m = /^\s*([A-Za-z_]+)/.exec(this.sql.slice(this.i, this.i + 40));
    return m ? m[1].toLowerCase() : '';
  }
}

/**
 * A statement's words as the server reads them, for recognising what it is:
 * comments dropped (a MySQL executable comment's code kept), every quoted
 * string or identifier reduced to '', lower case, single spaces. Reads at most
 * the first 64 KiB: what is recognised is at the start, or in a SET or FLUSH list.
 */
function wordsOf(text: string, rules: SplitRules): string {
  const s = text.slice(0, 65536);
  let out = '';
  let i = 0;
  const skipTo = (close: string, from: number) => {
    const at = s.indexOf(close, from);
    return at < 0 ? s.length : at + close.length;
  };
  while (i < s.length) {
    const c = s[i];
    const two = s.slice(i, i + 2);
    if ((two === '--' && (!rules.lineCommentNeedsSpace || /\s/.test(s[i + 2] ?? ' '))) || (c === '#' && rules.hashComments)) {
      i = skipTo('\n', i);
      out += ' ';
    } else if (two === '/*' && rules.executableComments && s[i + 2] === '!') {
      // /*!40101 SET autocommit=0 */ is code for MySQL: keep it, without the marker and the version number.
      const end = s.indexOf('*/', i);
      out += ` ${wordsOf(s.slice(i + 3, end < 0 ? s.length : end).replace(/^\d+/, ''), rules)} `;
      i = end < 0 ? s.length : end + 2;
    } else if (two === '/*') {
      let depth = 0;
      for (; i < s.length; i++) {
        if (s.startsWith('/*', i)) depth++;
        else if (s.startsWith('*/', i) && (--depth === 0 || !rules.nestedBlockComments)) break;
      }
      i += 2;
      out += ' ';
    } else if (c === "'" || c === '"' || (c === '`' && rules.backtickIdentifiers)) {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === '\\' && rules.backslashEscapes && c !== '`') i++;
      i++;
      out += "''";
    } else if (c === '$' && rules.dollarQuotes && /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.test(s.slice(i, i + 64)) && !isWordChar(s[i - 1])) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(s.slice(i, i + 64))![0];
      i = skipTo(tag, i + tag.length);
      out += "''";
    } else {
      out += /\s/.test(c) ? ' ' : c.toLowerCase();
      i++;
    }
  }
  return out.replace(/\s+/g, ' ').trim();
}

/**
 * Statements that begin, end or change the transaction glance-db runs a
 * version in, at the top level of a file (a BEGIN ... END inside a trigger,
 * a routine or a PostgreSQL DO body is part of its CREATE or DO statement,
 * never a statement of its own). Each gives the name it is refused under.
 */
const TRANSACTION_CONTROL: [RegExp, string][] = [
  // MariaDB's BEGIN NOT ATOMIC ... END is a compound statement, not a transaction.
  [/^begin\b(?! not atomic\b)/, 'BEGIN'],
  [/^start transaction\b/, 'START TRANSACTION'],
  [/^commit\b/, 'COMMIT'],
  [/^end\b/, 'END'],
  [/^rollback\b/, 'ROLLBACK'],
  [/^abort\b/, 'ABORT'],
  [/^savepoint\b/, 'SAVEPOINT'],
  [/^release\b/, 'RELEASE SAVEPOINT'],
  [/^prepare transaction\b/, 'PREPARE TRANSACTION'],
  [/^xa\b/, 'XA'],
  // SET autocommit = 0, SET @@session.autocommit := 1, SET LOCAL autocommit TO off, or anywhere in a SET list.
  [/^set\b.*[ ,@.]autocommit ?(?:=|:=|to\b)/, 'SET autocommit'],
];
/** The words any of those can start with (a statement that starts with another word, or not with a word, is read further only if it is a MySQL /*! comment). */
const FIRST_WORDS = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare', 'xa', 'set', 'lock', 'unlock', 'flush']);
const SESSION_TABLE_LOCKS: [RegExp, string][] = [
  [/^lock tables?\b/, 'LOCK TABLES'],
  [/^unlock tables?\b/, 'UNLOCK TABLES'],
  [/^flush tables?\b.* with read lock\b/, 'FLUSH TABLES WITH READ LOCK'],
];

/**
 * What a version file may not hold (docs/reference/manifest.md, "What a SQL file may hold"): glance-db runs
 * each version in its own transaction, so a statement that begins, ends or
 * changes transactions (or, on MySQL, locks tables for the session) would
 * commit part of a version behind its back. What it is, in words
 * ("transaction control (COMMIT)"), or null for an ordinary statement.
 */
export function transactionControl(statement: string, dialect: Dialect): string | null {
  const rules = describeDialect(dialect).split;
  // A statement's text starts at its first token: most are told apart by their first word alone.
  const first = /^[A-Za-z_]+/.exec(statement)?.[0].toLowerCase();
  if (first !== undefined && !FIRST_WORDS.has(first)) return null;
  // The first words decide, but for a SET list or a FLUSH's table list: read those whole.
  const head = wordsOf(statement.slice(0, 512), rules);
  const words = /^(set|flush)\b/.test(head) ? wordsOf(statement, rules) : head;
  for (const [re, name] of TRANSACTION_CONTROL) if (re.test(words)) return `transaction control (${name})`;
  if (rules.sessionTableLocks) for (const [re, name] of SESSION_TABLE_LOCKS) if (re.test(words)) return `a session table lock (${name})`;
  return null;
}

export function splitStatements(sql: string, dialect: Dialect): Statement[] {
  const spans = new Scanner(sql, describeDialect(dialect).split).run();
  const out: Statement[] = [];
  // Line/column by one forward walk over the starts, not one scan per statement.
  let line = 1;
  let lineStart = 0;
  let pos = 0;
  for (const [from, to] of spans) {
    for (; pos < from; pos++) {
      if (sql.charCodeAt(pos) === 10) {
        line++;
        lineStart = pos + 1;
      }
    }
    const text = sql.slice(from, to).trim();
    if (text) out.push({ index: out.length, text, line, column: from - lineStart + 1, offset: from });
  }
  return out;
}
