#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// sql.js (the embedded SQLite) is WebAssembly. V8 recompiles hot functions
// with its optimizing compiler on background threads, and the process cannot
// exit until those jobs finish: for SQLite's bytecode interpreter that is
// about 80 ms at the end of even `glance-db version`. A higher budget keeps
// short runs on the baseline compiler; long upgrades still tier up.
setFlagsFromString('--wasm-tiering-budget=1000000000');

// Errors are reported by the commands; anything that escapes them still gets
// one line, no stack trace (GLANCE_DB_DEBUG=1 shows it) and no password.
const last = (err) => {
  const text = process.env.GLANCE_DB_DEBUG ? String(err?.stack ?? err) : String(err?.message ?? err).split('\n')[0];
  process.stderr.write(`error: unexpected: ${text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@')}\n`);
  process.exit(1);
};
process.on('uncaughtException', last);
process.on('unhandledRejection', last);

// The bundle npm run build makes from dist/src (scripts/bundle.mjs).
const { main } = await import('../dist/bundle/cli.js');
await main();
