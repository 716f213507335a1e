// Every dialect glance-db speaks, one description each (src/dialects/<name>/description.ts).
// The Dialect type, the schemes a URL may use, `plan --dialect`'s choices and
// what the engine does differently per dialect all come from this record;
// the manifest's JSON Schema lists the same names (checked when it is built,
// by scripts/build-validator.mjs, and by test/dialects-layout.test.ts).
import { mysql } from './mysql/description.js';
import { postgresql } from './postgresql/description.js';
import { sqlite } from './sqlite/description.js';
import { DEFAULT_URL_SOURCE, parseUrlOf, type DatabaseTarget } from '../platform/url.js';
import { provideDialects, type Dialect } from '../core/driver/dialect.js';

export const DIALECTS = { sqlite, postgresql, mysql };
// The engine's Dialect (src/core/driver/dialect-name.ts) is these keys, and reads these descriptions
// through its port (describeDialect): core never imports this registry.
declare module '../core/driver/dialect-name.js' {
  interface DialectNames extends Record<keyof typeof DIALECTS, true> {}
}
provideDialects(DIALECTS);

export type { Dialect };
/** The dialects whose database is on a server (host, port, user, password). */
export type ServerDialect = { [D in Dialect]: (typeof DIALECTS)[D]['kind'] extends 'server' ? D : never }[Dialect];
/** The dialects whose database is a file. */
export type FileDialect = Exclude<Dialect, ServerDialect>;

/** The names, in DIALECTS' order (sqlite, postgresql, mysql). */
export const DIALECT_NAMES = Object.keys(DIALECTS) as Dialect[];

export function isDialect(name: string): name is Dialect {
  return Object.hasOwn(DIALECTS, name);
}

/**
 * Parses a database URL of any dialect here (src/platform/url.ts does the
 * parsing, with these descriptions' schemes, forms and server defaults).
 * Relative SQLite paths are resolved against baseDir; `source` names the URL
 * in messages, which never quote it.
 */
export function parseDatabaseUrl(url: string, baseDir: string, source = DEFAULT_URL_SOURCE): DatabaseTarget {
  return parseUrlOf(DIALECTS, url, baseDir, source);
}

// The target types of src/platform/url.ts name their dialects from this record (src/platform/url-dialects.ts).
declare module '../platform/url-dialects.js' {
  interface UrlDialectKinds extends DialectKinds {}
}
type DialectKinds = { [D in Dialect]: (typeof DIALECTS)[D]['kind'] };

export type { DialectDescription, ScriptGuardParts, SplitRules } from '../core/driver/dialect.js';
