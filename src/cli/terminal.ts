// Text glance-db shows (a terminal, a log, a pipe) may quote the database: a
// version row's name or note, Glance's alembic revision, an object name in the
// live schema, a message a server sent. Printed raw, a carriage return
// overwrites the row on screen and an escape sequence drives the terminal
// (colours, the window title, hyperlinks, a fake prompt). So every line of
// human output passes through terminalText() on its way out (BaseCommand's
// out() and error paragraph, the history and plan listings, the warnings and
// stderr lines): control characters are shown escaped (\r, \e, \x01, \u009b),
// line breaks and tabs of glance-db's own layout kept. A value from the
// database put into a table or a line goes through shown() first, which
// escapes line breaks and tabs too, so that it cannot fake a row.
// --json output keeps every value exact: JSON escapes C0 itself, and
// jsonText() escapes DEL, C1 and the bidirectional overrides as \u00XX.

/** Controls and invisible reorderings: C0, DEL, C1, and Unicode's bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return (
    NAMED[c] ?? (code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
  );
}

/** A value from outside glance-db, for a line of text: every control character escaped, line breaks and tabs too. */
export function shown(value: string): string {
  return value.replace(UNSAFE, escape);
}

/** Text on its way to a terminal or a log: control characters escaped, the line breaks and tabs of the layout kept. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_KEEP_LAYOUT, escape);
}

/** JSON text: the same value once parsed, with DEL, C1 and bidi controls written as \u escapes (JSON.stringify leaves them raw). */
export function jsonText(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
