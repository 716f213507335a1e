// The dialects as the URL parser (src/platform/url.ts) knows them: what it
// needs of each (kind, schemes, forms, server defaults), handed in by the
// registry, and their names by kind for the target types, which the registry
// fills in (src/dialects/index.ts augments UrlDialectKinds from DIALECTS).
/**
 * What the parser needs of each dialect: its kind, its URL schemes and forms,
 * a server's default port and user. The registry's descriptions hold them
 * (src/dialects/index.ts passes DIALECTS in): platform names no dialect.
 */
export interface UrlDialect {
  kind: 'file' | 'server';
  url: { schemes: string[]; form: string; spoken: string };
  server: { defaultPort: number; defaultUser: string } | null;
}

/**
 * Each dialect's name and kind, for the target types of url.ts: empty here,
 * filled in by the registry (src/dialects/index.ts augments it from DIALECTS).
 */
export interface UrlDialectKinds {}
type Named = keyof UrlDialectKinds & string;
/** The registry's FileDialect and ServerDialect, as platform sees them. */
export type UrlFileDialect = { [D in Named]: UrlDialectKinds[D] extends 'file' ? D : never }[Named];
export type UrlServerDialect = Exclude<Named, UrlFileDialect>;
