// plan and sync --dry-run after glance-manage's `db expand` continued by glance-db `migrate` (issues 28 and 29):
// version 45's contract is computed from the live schema (glance/continue.ts adjustGlanceExpanded), once, in the
// plan sync applies; plan and --dry-run list those statements (saying they are computed) and sync runs exactly
// them. A computed statement that fails is named as such, not by a line of the contract file.
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { dropStates, GLANCE_MANAGE, startFrom } from './glance-manage.js';
import { phaseTools } from './handback-phases.js';

interface PlannedStep {
  version: number;
  phase: string;
  file: string | null;
  statements: string[];
  computed?: string;
}
interface PlannedVersion {
  version: number;
  statements: string[];
  bookkeeping: string[];
  computed?: string;
}
interface Listed {
  rolling?: { steps: PlannedStep[] };
}

const contract45 = (out: string) =>
  (JSON.parse(out) as Listed).rolling?.steps.find((s) => s.version === 45 && s.phase === 'contract');

export function planGlanceExpand(env: DialectEnv): void {
  const s = suite(`plan after glance-manage's expand lists what sync runs: ${env.dialect}`);
  if (!existsSync(GLANCE_MANAGE) || !env.available() || env.dialect === 'postgresql') {
    s.run();
    return;
  }
  const { expectGdb, agree } = phaseTools(env);

  /** glance-manage db expand (from 44), then glance-db migrate: 45's contract is next, computed. */
  const expandedThenMigrated = async (db: TestDb) => {
    await startFrom(env, 'mitaka02-populated-expand', db);
    await expectGdb(db, ['migrate'], 0, /versions 45-50 recorded as expanded by it/);
  };

  s('plan --json and sync --dry-run --json list the computed contract of 45; sync runs exactly those', () =>
    withDb(env, async (db) => {
      await expandedThenMigrated(db);
      const plan = await expectGdb(db, ['plan', '50', '--json'], 0);
      const listed = contract45(plan.stdout);
      assert.ok(listed, 'plan lists 45 contract');
      assert.match(String(listed.computed), "glance-manage's expand built version 45's schema");
      const dry = await expectGdb(db, ['sync', '50', '--dry-run', '--json'], 0);
      assert.equal(contract45(dry.stdout), listed, '--dry-run lists the same step as plan');
      const text = await expectGdb(db, ['plan', '50'], 0);
      assert.match(
        text.stdout,
        /-- contract 45 add_visibility: .*\n-- computed from the live schema: glance-manage's expand/,
      );
      // The contract phase command's --dry-run lists the same computed step (what `contract` runs).
      const phase = await expectGdb(db, ['contract', '--dry-run', '--json'], 0);
      const steps = (JSON.parse(phase.stdout) as { steps: PlannedStep[] }).steps;
      assert.equal(
        steps.find((x) => x.version === 45),
        listed,
        'contract --dry-run: the computed step plan lists',
      );
      await expectGdb(db, ['sync', '50', '--json'], 0);
      const [row] = await db.rows(
        'SELECT statements_applied, statements_total FROM glance_db_version WHERE version = 45',
      );
      assert.equal(
        [Number(row.statements_applied), Number(row.statements_total)],
        [listed.statements.length, listed.statements.length],
        'sync ran as many statements as plan listed, all of them',
      );
      await agree(db, 'sync finishing the computed contract plan listed');
    }),
  );

  s("straight after glance-manage's expand: plan and sync --dry-run list what sync runs to finish it in place", () =>
    withDb(env, async (db) => {
      await startFrom(env, 'mitaka02-populated-expand', db);
      const plan = (await expectGdb(db, ['plan', '50', '--json'], 0)).stdout;
      const dry = (await expectGdb(db, ['sync', '50', '--dry-run', '--json'], 0)).stdout;
      const listed = (JSON.parse(plan) as { versions: PlannedVersion[] }).versions;
      assert.equal(
        (JSON.parse(dry) as { versions: PlannedVersion[] }).versions,
        listed,
        '--dry-run lists what plan lists',
      );
      const byVersion = (v: number) => listed.find((x) => x.version === v)!;
      assert.equal(
        listed.map((v) => v.version),
        [45, 46, 47, 48, 49, 50],
      );
      assert.match(String(byVersion(45).computed), "glance-manage's expand began Ocata's change");
      const text = (await expectGdb(db, ['sync', '50', '--dry-run'], 0)).stdout;
      assert.match(text, /-- Version 45 add_visibility: .*\n-- computed from the live schema: glance-manage's expand/);
      assert.match(
        text,
        /-- Version 47 add_os_hidden: .*\n-- recorded only: glance-manage's expand built this version/,
      );
      await expectGdb(db, ['sync', '50'], 0);
      const rows = await db.rows(
        'SELECT version, kind, statements_applied FROM glance_db_version WHERE version >= 45 ORDER BY version',
      );
      // Each version ran as many statements as listed: computed for 45, none for those glance-manage's expand built.
      assert.equal(
        rows.map((r) => [Number(r.version), Number(r.statements_applied), r.kind]),
        listed.map((v) => [v.version, v.statements.length, v.computed && !v.statements.length ? 'adopted' : 'applied']),
      );
      assert.ok(
        listed.some((v) => v.computed && !v.statements.length),
        'some version is only recorded',
      );
      await agree(db, "sync finishing glance-manage's expand as plan listed");
    }),
  );

  if (env.dialect === 'sqlite')
    s('a computed statement that fails is named as computed, not by a line of the contract file', () =>
      withDb(env, async (db) => {
        await expandedThenMigrated(db);
        const listed = contract45((await expectGdb(db, ['plan', '50', '--json'], 0)).stdout)!;
        assert.match(listed.statements[0], /^CREATE TABLE images_v45 /);
        // A planted table in the way of the computed contract's first statement.
        await db.exec('CREATE TABLE images_v45 (planted INTEGER)');
        const r = await expectGdb(db, ['sync', '50', '--json'], 7);
        const out = r.stdout + r.stderr;
        assert.match(
          out,
          /Version 45 failed at statement 1 of version 45's contract phase, computed from the live schema \(not a line of sql\/sqlite\/045_add_visibility\.contract\.sql\)/,
        );
        assert.not.match(out, /045_add_visibility\.contract\.sql:1:1/);
        assert.match(out, /"computed": "version 45's contract phase, computed from the live schema/);
        await db.exec('DROP TABLE images_v45');
        await expectGdb(db, ['sync', '50'], 0);
        await agree(db, 'sync after the planted table is gone');
      }),
    );

  s.after(dropStates);
  s.run();
}
