#!/usr/bin/env node
// The "adding a version" trial (issue 29): in a copy of this repository, add version N+1 (one nullable
// column, images.glance_db_trial) by docs/contributing/adding-a-version.md's steps and nothing else, rebuild,
// regenerate, and run the tests that must pass with it. A test failing here is a place that still needs a
// hand edit beyond the checklist.
//   node scripts/trial-version.mjs [--dir DIR] [--no-release] [--tests REGEX]
// DIR (default a new temporary folder) gets a git clone of this repository's HEAD and a link to its
// node_modules. --no-release: Glance's revision only, no new release in src/glance/releases.ts.
// Needs sqlite3 for the SQLite reference dump; PostgreSQL and MariaDB as the tests do (npm run snapshots).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const dir = arg('--dir', null) ?? mkdtempSync(join(tmpdir(), 'glance-db-trial-'));
const withRelease = !process.argv.includes('--no-release');
const tests = arg(
  '--tests',
  '(conformance-sqlite|readme|release-sqlite|variants-sqlite|sqlite-cli|habits|operate-sqlite|rolling-window-sqlite|stuck-sqlite|add-version-sqlite)\\.test',
);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: dir, stdio: 'inherit', ...opts });
const read = (p) => readFileSync(join(dir, p), 'utf8');
const write = (p, text) => writeFileSync(join(dir, p), text);
const edit = (p, before, after) => {
  const text = read(p);
  if (!text.includes(before)) throw new Error(`${p}: "${before.slice(0, 60)}" not found`);
  write(p, text.replace(before, after));
};

execFileSync('git', ['clone', '-q', root, dir], { stdio: 'inherit' });
symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
const versions = [...read('glance-db.yaml').matchAll(/^ {2}- version: (\d+)$/gm)].map((m) => Number(m[1]));
const latest = versions[versions.length - 1];
const v = latest + 1;
const name = 'add_glance_db_trial';
const nnn = String(v).padStart(3, '0');
console.log(`trial: version ${v} in ${dir}`);

// 1. SQL, one file per dialect.
const column = { sqlite: 'VARCHAR(16)', postgresql: 'character varying(16)', mysql: 'varchar(16) DEFAULT NULL' };
for (const [d, type] of Object.entries(column))
  write(
    `sql/${d}/${nnn}_${name}.sql`,
    `-- Version ${v}: ${name} (${d})\n-- images.glance_db_trial, a trial column.\n\nALTER TABLE images ADD COLUMN glance_db_trial ${type};\n`,
  );
// 2. The manifest.
const files = Object.keys(column)
  .map((d) => `      ${d}: sql/${d}/${nnn}_${name}.sql\n`)
  .join('');
write(
  'glance-db.yaml',
  `${read('glance-db.yaml')}\n  - version: ${v}\n    name: ${name}\n    description: images.glance_db_trial varchar(16), nullable. Glance trial_expand01 / trial_contract01.\n    files:\n${files}    rolling: expand\n`,
);
// The build, for bin/run.js (lint) and the snapshots.
sh('npm', ['run', 'build', '--silent']);
// 3. The lock.
sh(process.execPath, ['bin/run.js', 'lint', '--update']);
// 4. Glance's revision (and release).
const chain = (branch) => {
  const text = read('src/glance/revisions.ts');
  const last = [...text.matchAll(new RegExp(`^ {2}\\['(\\w+_${branch}\\d\\d)', (\\d+)\\],$`, 'gm'))].at(-1);
  edit('src/glance/revisions.ts', last[0], `${last[0]}\n  ['trial_${branch}01', ${v}],`);
};
chain('contract');
chain('expand');
if (withRelease) {
  const text = read('src/glance/releases.ts');
  const last = [
    ...text.matchAll(/^ {2}\{ name: '(\w+)', series: '(\d+)\.(\d)', glanceMajor: (\d+), version: \d+ \},$/gm),
  ].at(-1);
  const [year, half] = half2(Number(last[2]), Number(last[3]));
  edit(
    'src/glance/releases.ts',
    last[0],
    `${last[0]}\n  { name: 'trial', series: '${year}.${half}', glanceMajor: ${Number(last[4]) + 1}, version: ${v} },`,
  );
}
// 5. Glance's schema at the new revision: the newest dump plus the column, as each dump tool writes it.
mkdirSync(join(dir, `test/fixtures/reference/v${v}`), { recursive: true });
const ref = (d) => `test/fixtures/reference/v${latest}/${d}.sql`;
const sqliteDump = spawnSync('sqlite3', [':memory:'], {
  input: `${read(ref('sqlite'))}\nALTER TABLE images ADD COLUMN glance_db_trial VARCHAR(16);\n.schema\n`,
  encoding: 'utf8',
});
if (sqliteDump.status !== 0) throw new Error(`sqlite3: ${sqliteDump.stderr}`);
write(`test/fixtures/reference/v${v}/sqlite.sql`, sqliteDump.stdout);
const pgImages = /(CREATE TABLE public\.images \([^]*?)\n\);/;
write(
  `test/fixtures/reference/v${v}/postgresql.sql`,
  read(ref('postgresql')).replace(pgImages, '$1,\n    glance_db_trial character varying(16)\n);'),
);
write(
  `test/fixtures/reference/v${v}/mysql.sql`,
  read(ref('mysql')).replace(
    /(CREATE TABLE `images` \([^]*?)\n {2}PRIMARY KEY/,
    '$1\n  `glance_db_trial` varchar(16) DEFAULT NULL,\n  PRIMARY KEY',
  ),
);
// 5 again: the expected schemas, with the new revision built in.
sh('npm', ['run', 'snapshots', '--silent']);
// 6. Documentation: npm run docs writes the version's row of docs/reference/version-line.md.
sh('npm', ['run', 'docs', '--silent']);
sh('git', ['add', '-A']);
sh('git', ['-c', 'user.name=trial', '-c', 'user.email=trial@localhost', 'commit', '-qm', `trial: version ${v}`]);
console.log('trial: files changed against HEAD~1:');
sh('git', ['diff', '--stat', 'HEAD~1']);
// The unit tier (versions.test.ts and docs-unit among them), then the files that run the CLI.
let failed = 0;
for (const select of [['--tier', 'unit'], [tests]]) {
  const r = spawnSync(process.execPath, ['test/run.mjs', '--jobs', '1', ...select], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
console.log(failed ? `trial: FAILED (version ${v} in ${dir})` : `trial: passed (version ${v} in ${dir})`);
process.exit(failed ? 1 : 0);

/** The series after YEAR.HALF (2026.1 -> 2026.2, 2026.2 -> 2027.1). */
function half2(year, half) {
  return half === 1 ? [year, 2] : [year + 1, 1];
}
