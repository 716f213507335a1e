// Every dialect glance-db speaks, one description each (src/dialects/<name>/description.ts).
// The Dialect type, the schemes a URL may use, `plan --dialect`'s choices and
// what the engine does differently per dialect all come from this record;
// the manifest's JSON Schema lists the same names (checked when it is built,
// by scripts/build-validator.mjs, and by test/dialects-layout.test.ts).
import { mysql } from './mysql/description.js';
import { postgresql } from './postgresql/description.js';
import { sqlite } from './sqlite/description.js';
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

export type { DialectDescription, ScriptGuardParts, SplitRules } from '../core/driver/dialect.js';
