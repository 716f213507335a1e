#!/usr/bin/env node
// Errors are reported by the commands; anything that escapes them still gets
// one line, no stack trace (GLANCE_DB_DEBUG=1 shows it) and no password.
const last = (err) => {
  const text = process.env.GLANCE_DB_DEBUG ? String(err?.stack ?? err) : String(err?.message ?? err).split('\n')[0];
  process.stderr.write(`error: unexpected: ${text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@')}\n`);
  process.exit(1);
};
process.on('uncaughtException', last);
process.on('unhandledRejection', last);

// Node 22.1+ keeps the compiled bundle in its compile cache between runs
// (NODE_COMPILE_CACHE to move it, NODE_DISABLE_COMPILE_CACHE=1 to turn it
// off); on Node 20 there is no such cache and this does nothing.
const { default: nodeModule } = await import('node:module');
nodeModule.enableCompileCache?.();

// The bundle npm run build makes from dist/src (scripts/bundle.mjs).
const { main } = await import('../dist/bundle/cli.js');
await main();
