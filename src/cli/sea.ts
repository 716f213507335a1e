// The entry of the single executable (glance-db-linux-x64, built by
// scripts/sea.mjs for `npm run package`): one file, no Node.js and no
// package folder on the host. It is not part of dist/bundle: `node bin/run.js`
// never loads it.
//
// scripts/sea.mjs bundles this file and everything it imports into one
// CommonJS script (what a Node single executable runs) and Node takes a V8
// start-up snapshot of it: every module below is already loaded and
// initialised when the executable starts, and main() runs at once.
// Two things cannot be decided at build time and happen in main():
// - the SQL, the manifest, the expected schemas and sql.js's WebAssembly are
//   assets inside the executable, but glance-db reads them as files (and
//   sql.js compiles its WebAssembly per run). The first run unpacks them into
//   a private folder named after the build ($XDG_CACHE_HOME or ~/.cache,
//   else the temporary folder: glance-db-<version>-<hash>/), later runs only
//   check that folder is there and is theirs;
// - oclif normally finds package.json and the command map on disk; here it
//   gets both from memory (the root plugin is made here with the commands of
//   src/cli/commands.ts), so its discovery reads nothing.
import { getAsset } from 'node:sea';
import { lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { execute, Plugin, type Interfaces } from '@oclif/core';
import { COMMANDS } from './commands.js';
import { ExitCode } from '../platform/errors.js';
import { setPackageRoot } from '../platform/paths.js';
import { outliveClosedOutput } from '../platform/output.js';
import { terminalText } from './terminal.js';
import { setInvokedAs } from './manage-mode.js';
import { tierForCommand } from './wasm-tiering.js';

/** Filled in by scripts/sea.mjs (esbuild define). */
declare const GLANCE_DB_SEA: { pjson: Interfaces.PJSON; assets: string[]; id: string };

/** As bin/run.js: anything that escapes the commands gets one line, no stack trace, no password. */
function last(err: unknown): never {
  const e = err as { stack?: string; message?: string } | undefined;
  const text = process.env.GLANCE_DB_DEBUG ? String(e?.stack ?? err) : String(e?.message ?? err).split('\n')[0];
  process.stderr.write(
    terminalText(`error: unexpected: ${text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@')}\n`),
  );
  process.exit(1);
}

/** A folder this user made, that nobody else can write to: then its files are the ones unpacked. */
function ours(dir: string): boolean {
  try {
    const s = lstatSync(dir);
    const done = lstatSync(join(dir, '.complete'));
    return s.isDirectory() && s.uid === process.getuid?.() && (s.mode & 0o022) === 0 && done.isFile();
  } catch {
    return false;
  }
}

function unpack(): string {
  const bases = [process.env.XDG_CACHE_HOME, join(homedir(), '.cache'), tmpdir()].filter((b): b is string => !!b);
  const name = `glance-db-${GLANCE_DB_SEA.id}`;
  const problems: string[] = [];
  for (const base of bases) {
    const dir = join(base, name);
    if (ours(dir)) return dir;
    let work: string | undefined;
    try {
      mkdirSync(base, { recursive: true, mode: 0o700 });
      work = mkdtempSync(join(base, `.${name}-`));
      for (const key of GLANCE_DB_SEA.assets) {
        const file = join(work, key);
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        writeFileSync(file, new Uint8Array(getAsset(key)), { mode: 0o600 });
      }
      writeFileSync(join(work, '.complete'), '');
      try {
        renameSync(work, dir);
      } catch {
        // Another run unpacked the same build at the same time (or a stranger's folder is in the way).
        rmSync(work, { recursive: true, force: true });
      }
      if (ours(dir)) return dir;
      problems.push(`${dir}: exists but is not this user's private folder`);
    } catch (err) {
      if (work) rmSync(work, { recursive: true, force: true });
      problems.push(`${base}: ${(err as Error).message}`);
    }
  }
  process.stderr.write(
    `error: cannot unpack glance-db's files: ${problems.join('; ')}\nhint: set XDG_CACHE_HOME to a folder this user can write to.\n`,
  );
  process.exit(ExitCode.CONFIG);
}

async function main(): Promise<void> {
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
  outliveClosedOutput();
  // Copied or linked as glance-manage: src/cli/manage-mode.ts.
  setInvokedAs(process.argv0, process.argv[1], process.execPath);
  tierForCommand(process.argv.slice(2));
  const root = unpack();
  setPackageRoot(root, join(root, 'sql-wasm.wasm'));
  const pjson = GLANCE_DB_SEA.pjson;
  const plugin = new Plugin({ isRoot: true, root, pjson });
  // The explicit command map, given instead of oclif's import of its file.
  (plugin as unknown as { commandCache: unknown }).commandCache = COMMANDS;
  await plugin.load();
  await execute({
    args: process.argv.slice(2),
    loadOptions: { root, pjson, plugins: new Map([[pjson.name, plugin]]) },
  });
}

if (startupSnapshot.isBuildingSnapshot()) startupSnapshot.setDeserializeMainFunction(() => main().catch(last));
else main().catch(last);
