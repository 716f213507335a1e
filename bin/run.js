#!/usr/bin/env node
// Errors are reported by the commands; anything that escapes them still gets
// one line, no stack trace (GLANCE_DB_DEBUG=1 shows it) and no password.
// A reader that goes away (| head) is no error: src/platform/output.ts, outliveClosedOutput().
const last = (err) => {
  const text = process.env.GLANCE_DB_DEBUG ? String(err?.stack ?? err) : String(err?.message ?? err).split('\n')[0];
  // The password of a URL starred; control characters shown escaped (src/cli/terminal.ts).
  const safe = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@')
    .replace(
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
  process.stderr.write(`error: unexpected: ${safe}\n`);
  process.exit(1);
};
process.on('uncaughtException', last);
process.on('unhandledRejection', last);

// engines says >=22.13 (node:sqlite without a flag); an older Node is told so, not met with a crash later.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `error: glance-db needs Node.js 22.13 or newer (24 LTS recommended); this is ${process.version}.\nhint: install Node.js 24, or use the single executable (glance-db-linux-x64), which brings its own.\n`,
  );
  process.exit(3);
}

// Node keeps the compiled bundle in its compile cache between runs
// (NODE_COMPILE_CACHE to move it, NODE_DISABLE_COMPILE_CACHE=1 to turn it off).
const { default: nodeModule } = await import('node:module');
nodeModule.enableCompileCache();

// The bundle npm run build makes from dist/src (scripts/bundle.mjs).
// oclif checks the running Node against its own package.json's engines when it
// loads: in the bundle that file is not there, so the check loaded semver (some
// 10 ms of CPU at every start, issue 31) only to fail. The check above does it.
const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING;
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
const { main } = await import('../dist/bundle/cli.js');
if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning;
await main();
