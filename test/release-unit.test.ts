// The installed Glance as glance-db reads it (src/glance/installed.ts), the
// target it makes the default (src/glance/goal.ts), the suggested commands
// that carry it, and the name the program was started under
// (src/cli/manage-mode.ts). Fixture trees, never the machine's Glance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedGlance, useGlanceEnvironment } from '../src/glance/installed.js';
import { resolveGoal } from '../src/glance/goal.js';
import { suggest } from '../src/core/run-context.js';
import { asGlanceManage, setInvokedAs } from '../src/cli/manage-mode.js';
import { loadManifest } from '../src/core/manifest/load.js';
import { ROOT, LATEST, NEWER_GLANCE, NEWEST_RELEASE } from './helpers.js';
import { ZED_VERSION_FILES } from './release-fixtures.js';
import { GLANCE_RELEASES, lastSchemaChangeRelease, schemaChangeNote } from '../src/glance/releases.js';

const manifest = loadManifest(join(ROOT, 'glance-db.yaml'));
// As the CLI does as a run starts (src/cli/base-command.ts): a caller that passes no environment reads the process's.
useGlanceEnvironment(() => process.env);
const root = mkdtempSync(join(tmpdir(), 'gdb-release-unit-'));
let n = 0;

/** A site-packages folder: package metadata, and/or glance/db/... with these version files and CURRENT_RELEASE. */
function site(opts: {
  meta?: [kind: 'dist-info' | 'egg-info', version: string];
  files?: string[];
  currentRelease?: string;
}): string {
  const dir = join(root, `site${n++}`);
  mkdirSync(dir, { recursive: true });
  if (opts.meta) {
    const [kind, version] = opts.meta;
    const d = join(dir, `glance-${version}.${kind}`);
    mkdirSync(d);
    writeFileSync(
      join(d, kind === 'dist-info' ? 'METADATA' : 'PKG-INFO'),
      `Metadata-Version: 2.1\nName: glance\nVersion: ${version}\n`,
    );
  }
  if (opts.files || opts.currentRelease) {
    const v = join(dir, 'glance', 'db', 'sqlalchemy', 'alembic_migrations', 'versions');
    mkdirSync(v, { recursive: true });
    for (const f of opts.files ?? []) writeFileSync(join(v, f), '');
    if (opts.currentRelease)
      writeFileSync(
        join(dir, 'glance', 'db', 'migration.py'),
        `EXPAND_BRANCH = 'expand'\nCURRENT_RELEASE = '${opts.currentRelease}'\n`,
      );
  }
  return dir;
}

const detect = (dirs: string[], release?: string) =>
  installedGlance({
    GLANCE_DB_GLANCE_SITE_PACKAGES: dirs.join(':'),
    ...(release !== undefined ? { GLANCE_DB_GLANCE_RELEASE: release } : {}),
  });

test('Debian zed: package metadata names 25.1.0 (zed), its version files give the head wallaby_contract01, version 50', () => {
  const g = detect([
    join(root, 'missing'),
    site({ meta: ['egg-info', '25.1.0'], files: ZED_VERSION_FILES, currentRelease: 'zed' }),
  ]);
  assert.ok(g);
  assert.is(g!.version, '25.1.0');
  assert.is(g!.release?.name, 'zed');
  assert.is(g!.head, 'wallaby_contract01');
  assert.is(g!.schemaVersion, 50);
});

test('the version files decide the schema: 2024.1 ships 2024_1_contract01 (51); an unknown contract revision is a newer Glance (no version)', () => {
  const caracal = detect([
    site({
      meta: ['dist-info', '28.0.0'],
      files: [
        ...ZED_VERSION_FILES,
        'zed_contract01_empty.py',
        '2023_1_contract01_empty.py',
        '2024_1_expand01_add_cache_tables.py',
        '2024_1_contract01_empty.py',
      ],
    }),
  ]);
  assert.is(caracal!.head, '2024_1_contract01');
  assert.is(caracal!.schemaVersion, 51);
  const newer = detect([
    site({
      meta: ['dist-info', NEWER_GLANCE],
      // A contract revision no glance-db version will ever equal.
      files: [...ZED_VERSION_FILES, '2024_1_contract01_empty.py', '9999_9_contract01_drop_something.py'],
    }),
  ]);
  assert.is(newer!.schemaVersion, null);
  assert.is(newer!.release, null);
  // The old single-branch files (ocata01_, pike01_) and .sql files are no new revision.
  const old = detect([
    site({
      files: [
        ...ZED_VERSION_FILES,
        'ocata01_add_visibility_remove_is_public.py',
        'pike01_drop_artifacts_tables.py',
        'ocata01_add_visibility_remove_is_public.sql',
      ],
      currentRelease: 'zed',
    }),
  ]);
  assert.is(old!.schemaVersion, 50);
  assert.is(old!.release?.name, 'zed');
});

test('without version files: the package version (dist-info, egg-info), else CURRENT_RELEASE (2023_1 as glance writes it)', () => {
  assert.is(detect([site({ meta: ['dist-info', '27.0.1'] })])!.schemaVersion, 50);
  assert.is(detect([site({ meta: ['egg-info', '28.1.0'] })])!.schemaVersion, 51);
  const g = detect([site({ currentRelease: '2023_1' })]);
  assert.is(g!.release?.name, 'antelope');
  assert.is(g!.schemaVersion, 50);
  assert.is(detect([site({}), join(root, 'nothing')]), null);
  assert.is(detect([]), null);
});

test('GLANCE_DB_GLANCE_RELEASE: none, a release, a Glance version or a schema version; auto detects; anything else is a configuration error', () => {
  const zed = site({ meta: ['egg-info', '25.1.0'], files: ZED_VERSION_FILES });
  assert.is(detect([zed], 'none'), null);
  assert.is(detect([zed], 'NONE'), null);
  assert.is(detect([zed], 'auto')!.version, '25.1.0');
  assert.is(detect([zed], '')!.version, '25.1.0');
  assert.is(detect([], 'zed')!.schemaVersion, 50);
  assert.is(detect([], '2024.1')!.schemaVersion, 51);
  assert.is(detect([], '25.0.0')!.release?.name, 'zed');
  assert.is(detect([], '48')!.schemaVersion, 48);
  assert.is(detect([], NEWER_GLANCE)!.schemaVersion, null);
  for (const bad of ['zork', '4', '1e3', 'zed; rm -rf /']) {
    try {
      detect([], bad);
      assert.unreachable(bad);
    } catch (err) {
      assert.is((err as { exitCode?: number }).exitCode, 3, bad);
      assert.match((err as Error).message, 'GLANCE_DB_GLANCE_RELEASE must be');
    }
  }
});

/** resolveGoal reads process.env: run with these variables, then put them back. */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

test("the goal: the target given, else the installed Glance's schema, else the newest; a Glance newer than glance-db or at the newest changes nothing", () => {
  const zed = site({ meta: ['egg-info', '25.1.0'], files: ZED_VERSION_FILES });
  withEnv({ GLANCE_DB_GLANCE_SITE_PACKAGES: zed, GLANCE_DB_GLANCE_RELEASE: '' }, () => {
    const g = resolveGoal(manifest);
    assert.equal([g.version, g.source, g.word], [50, 'installed', 'zed']);
    const given = resolveGoal(manifest, { version: LATEST, word: String(LATEST) });
    assert.equal([given.version, given.source, given.word], [LATEST, 'given', String(LATEST)]);
  });
  withEnv({ GLANCE_DB_GLANCE_SITE_PACKAGES: '', GLANCE_DB_GLANCE_RELEASE: '' }, () => {
    const g = resolveGoal(manifest);
    assert.equal([g.version, g.source, g.word], [LATEST, 'newest', null]);
  });
  withEnv({ GLANCE_DB_GLANCE_SITE_PACKAGES: '', GLANCE_DB_GLANCE_RELEASE: NEWER_GLANCE }, () =>
    assert.is(resolveGoal(manifest).source, 'newest'),
  );
  // The newest release glance-db knows: at the newest version (unless Glance's newest change is in no release yet).
  withEnv({ GLANCE_DB_GLANCE_SITE_PACKAGES: '', GLANCE_DB_GLANCE_RELEASE: NEWEST_RELEASE.series! }, () =>
    assert.is(resolveGoal(manifest).source, NEWEST_RELEASE.version === LATEST ? 'newest' : 'installed'),
  );
  withEnv({ GLANCE_DB_GLANCE_SITE_PACKAGES: '', GLANCE_DB_GLANCE_RELEASE: '2023.1' }, () =>
    assert.equal(resolveGoal(manifest).word, '2023.1'),
  );
});

test("the last schema change (glance-db versions' closing line) is the first release at the newest release's version (caracal, 2024.1, for the releases up to 51)", () => {
  const changed = lastSchemaChangeRelease();
  assert.is(changed.version, NEWEST_RELEASE.version);
  assert.ok(GLANCE_RELEASES.indexOf(changed) <= GLANCE_RELEASES.indexOf(NEWEST_RELEASE));
  for (const r of GLANCE_RELEASES.slice(0, GLANCE_RELEASES.indexOf(changed)))
    assert.ok(r.version < changed.version, r.name);
  // Up to 2026.1 (the table as of 51): caracal, 2024.1, brought the last change.
  assert.is(lastSchemaChangeRelease(GLANCE_RELEASES.filter((r) => r.version <= 51)).series, '2024.1');
  // A release that reaches a new version is the new last change; one with no migration of its own is not.
  const next = { name: 'next', series: '2026.2', glanceMajor: NEWEST_RELEASE.glanceMajor + 1, version: LATEST + 1 };
  assert.is(lastSchemaChangeRelease([...GLANCE_RELEASES, next]), next);
  const same = { ...next, version: NEWEST_RELEASE.version };
  assert.is(lastSchemaChangeRelease([...GLANCE_RELEASES, same]), changed);
});

test("glance-db versions' closing note: no change after the last release that made one, or the versions no release reaches yet", () => {
  const changed = lastSchemaChangeRelease();
  const name = changed.series ?? changed.name;
  assert.is(schemaChangeNote(changed.version), `Glance has added no schema change after ${name}.`);
  assert.is(
    schemaChangeNote(changed.version + 1),
    `Glance's schema changes after ${name} (version ${changed.version + 1}) are in no release yet.`,
  );
  assert.match(schemaChangeNote(changed.version + 2), `(version ${changed.version + 1} to ${changed.version + 2})`);
  const up51 = GLANCE_RELEASES.filter((r) => r.version <= 51);
  assert.is(schemaChangeNote(51, up51), 'Glance has added no schema change after 2024.1.');
});

test('suggested commands carry the target where the command takes one, and only there', () => {
  const ctx = {
    selection: ['--url', 'sqlite:g.db'],
    goal: { version: 50, source: 'installed' as const, word: 'zed', installed: null, newest: LATEST },
  };
  assert.is(suggest(ctx, 'sync'), 'glance-db sync zed --url sqlite:g.db');
  assert.is(suggest(ctx, 'expand'), 'glance-db expand zed --url sqlite:g.db');
  assert.is(suggest(ctx, 'db check'), 'glance-db db check zed --url sqlite:g.db');
  assert.is(suggest(ctx, 'migrate'), 'glance-db migrate --url sqlite:g.db');
  assert.is(suggest(ctx, 'repair --dry-run'), 'glance-db repair --dry-run --url sqlite:g.db');
  assert.is(suggest(ctx, 'sync 48'), 'glance-db sync 48 --url sqlite:g.db');
  assert.is(suggest({ ...ctx, goal: { ...ctx.goal, word: null } }, 'sync'), 'glance-db sync --url sqlite:g.db');
  assert.is(suggest({ selection: [] }, 'sync'), 'glance-db sync');
});

test('started as glance-manage: by the base name of a link, of bin/run.js copied, or of the single executable; not otherwise', () => {
  for (const [paths, as] of [
    [['/usr/local/bin/glance-manage'], true],
    [['/opt/glance-db/bin/glance-manage.js'], true],
    [['node', '/usr/bin/glance-manage', '/usr/bin/glance-db-linux-x64'], true],
    [['/usr/local/bin/glance-db'], false],
    [['/work/bin/run.js'], false],
    [['/usr/bin/glance-manage-old'], false],
    [[undefined], false],
  ] as [(string | undefined)[], boolean][]) {
    setInvokedAs(...paths);
    assert.is(asGlanceManage(), as, paths.join(' '));
  }
  setInvokedAs(undefined);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
