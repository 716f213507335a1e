// The shipped glance-db.yaml and its parse, which scripts/build-validator.mjs
// writes into dist/src/core/manifest/shipped-manifest.js at build time (null when
// that text does not parse into plain JSON values).
declare const shipped: { text: string; json: string } | null;
export default shipped;
