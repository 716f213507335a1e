// A handful of kill -9 trials per dialect in CI; scripts/crash-trials.mjs
// runs 50 or more by hand (docs/reliability.md has the last figures).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { mysqlEnv, postgresEnv } from './dialects.js';
import { ROOT } from './helpers.js';

type Trials = (
  dialect: string,
  opts: { trials: number; images: number; seed: number; log: (s: string) => void },
) => Promise<{ trials: number; killed: number; failures: unknown[] }>;

for (const [dialect, available] of [
  ['sqlite', () => true],
  ['postgresql', () => postgresEnv.available()],
  ['mysql', () => mysqlEnv.available()],
] as const) {
  if (!available()) continue;
  test(`kill -9 during sync, then sync again: same schema and rows as an uninterrupted run (${dialect})`, async () => {
    const { runTrials } = (await import(join(ROOT, 'scripts', 'crash-trials.mjs'))) as { runTrials: Trials };
    const lines: string[] = [];
    const seed = Date.now() % 100000;
    const r = await runTrials(dialect, { trials: 3, images: 800, seed, log: (s) => lines.push(s) });
    assert.is(r.trials, 3);
    // A trial whose kill came after the run had finished proves nothing: each kill must land mid-upgrade.
    assert.is(r.killed, 3, `kills that landed while the upgrade ran\n${lines.join('\n')}`);
    assert.equal(
      r.failures,
      [],
      `replay: node scripts/crash-trials.mjs ${dialect} --trials 3 --images 800 --seed ${seed}\n${lines.join('\n')}`,
    );
  });
}

test.run();
