// Turns bench results into docs/performance.md and docs/performance.svg.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, workDir } from './lib.mjs';
import { BEGIN as ROLLING_BEGIN, END as ROLLING_END, rollingSection } from './rolling-report.mjs';

/**
 * Ratios to stay under. startup: `version` / `node -e 0`; fresh: sync / (raw
 * client + node floor); populated: upgrade 44 -> 51 / raw client (the servers),
 * populatedSqlite: / the sqlite3 shell, memorySqlite: peak RSS / file size
 * (issue 22); faster than dbmate on start-up, fresh sync and the servers'
 * populated upgrades. Issue 31: the no-op sync (the deploy's case) within
 * noopDbmate of dbmate's no-op `up`, the fresh sync within freshDbmate of
 * dbmate's `up`, on the servers.
 */
export const GOALS = {
  startup: 2,
  fresh: 1.3,
  populated: 1.1,
  populatedSqlite: 2.5,
  memorySqlite: 2.5,
  noopDbmate: 1.5,
  freshDbmate: 1.5,
};

/** Everything below this line of docs/performance.md is written by hand, and kept when the report is rewritten. */
export const HAND_WRITTEN =
  '<!-- Written by hand below this line; bench/report.mjs keeps it when it rewrites the rest. -->';

const ms = (x) => (x == null ? 'n/a' : x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const ratio = (x) => (x == null || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)}x`);
const mib = (kib) => `${Math.round(kib / 1024)} MiB`;
const gb = (b) => `${(b / 1e9).toFixed(2)} GB`;

/** The ratios the goals are about, per dialect. */
export function ratios(r) {
  return {
    startup: r.startup.glanceDb / r.startup.node,
    startupExe: r.startup.executable ? r.startup.executable / r.startup.node : null,
    fresh: r.fresh.glanceDb / (r.fresh.raw + r.fresh.node),
    populated: r.populated ? r.populated.glanceDb / r.populated.raw : null,
    memory:
      r.populated?.peakRssKiB && r.populated.sizeBytes ? (r.populated.peakRssKiB * 1024) / r.populated.sizeBytes : null,
    manageStartup: r.startup.glanceManage ? r.startup.glanceManage / r.startup.glanceDb : null,
    manageFresh: r.fresh.glanceManage ? r.fresh.glanceManage / r.fresh.glanceDb50 : null,
    // dbmate / glance-db: above 1 means glance-db is ahead.
    dbmateStartup: r.startup.dbmate ? r.startup.dbmate / r.startup.glanceDb : null,
    dbmateStartupExe: r.startup.dbmate && r.startup.executable ? r.startup.dbmate / r.startup.executable : null,
    dbmateFresh: r.fresh.dbmate ? r.fresh.dbmate / r.fresh.glanceDb : null,
    dbmateFreshExe: r.fresh.dbmate && r.fresh.executable ? r.fresh.dbmate / r.fresh.executable : null,
    dbmatePopulated: r.populated?.dbmate ? r.populated.dbmate / r.populated.glanceDb : null,
    // glance-db / dbmate (issue 31's goals): below the goal is met.
    freshOverDbmate: r.fresh.dbmate ? r.fresh.glanceDb / r.fresh.dbmate : null,
    freshOverDbmateExe: r.fresh.dbmate && r.fresh.executable ? r.fresh.executable / r.fresh.dbmate : null,
    noopOverDbmate: r.noop?.dbmate ? r.noop.glanceDb / r.noop.dbmate : null,
    noopOverDbmateExe: r.noop?.dbmate && r.noop.executable ? r.noop.executable / r.noop.dbmate : null,
  };
}

const goalOf = (dialect, k) => (k === 'populated' && dialect === 'sqlite' ? GOALS.populatedSqlite : GOALS[k]);

function chart(results) {
  const rows = [];
  for (const [d, r] of Object.entries(results.dialects)) {
    const q = ratios(r);
    for (const k of ['startup', 'fresh', 'populated']) {
      if (q[k] != null)
        rows.push({
          label: `${d}: ${k === 'fresh' ? 'fresh sync' : k === 'populated' ? 'populated upgrade' : 'start-up'}`,
          value: q[k],
          goal: goalOf(d, k),
        });
    }
    if (q.startupExe != null)
      rows.push({ label: `${d}: start-up, executable`, value: q.startupExe, goal: GOALS.startup });
  }
  const max = Math.max(4, ...rows.map((r) => Math.min(r.value, 20)));
  const W = 760,
    left = 230,
    barW = W - left - 60,
    rowH = 28,
    top = 40;
  const x = (v) => left + (Math.min(v, max) / max) * barW;
  const H = top + rows.length * rowH + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="22" font-weight="bold">glance-db time / baseline (lower is better; black tick = goal)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const ok = r.value <= r.goal;
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${r.label}</text>`);
    parts.push(
      `<rect x="${left}" y="${y + 4}" width="${x(r.value) - left}" height="${rowH - 10}" fill="${ok ? '#3a7d44' : '#c0392b'}"/>`,
    );
    parts.push(
      `<line x1="${x(r.goal)}" x2="${x(r.goal)}" y1="${y}" y2="${y + rowH - 2}" stroke="black" stroke-width="3"/>`,
    );
    parts.push(
      `<text x="${x(r.value) + 6}" y="${y + 17}">${r.value.toFixed(2)}x${r.value > max ? ' (off scale)' : ''}</text>`,
    );
  });
  for (let v = 0; v <= max; v += max > 10 ? 5 : 1) {
    parts.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${top - 4}" y2="${H - 30}" stroke="#ddd"/><text x="${x(v)}" y="${H - 14}" text-anchor="middle" fill="#555">${v}x</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The report's Markdown; its chart is written as performance.svg beside `out`. */
export function report(results, out = join(ROOT, 'docs', 'performance.md')) {
  writeFileSync(join(dirname(out), 'performance.svg'), chart(results));
  const v = results.versions;
  const lines = [
    '# Performance',
    '',
    `Written by \`npm run bench\` on ${results.when.slice(0, 10)}. Machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memGiB} GiB. ` +
      `Node ${v.node}, glance-db ${v.glanceDb}, dbmate ${v.dbmate ?? 'not measured'}, sqlite3 ${v.sqlite3}, PostgreSQL ${v.postgresql}, MariaDB ${v.mariadb}, glance-manage (Debian python3-glance) ${v.glanceManage}.`,
    '',
    `Every comparison ran interleaved (A B A B ...): ${results.runs} runs for start-up and fresh sync, ${
      Object.entries(results.dialects)
        .filter(([, r]) => r.populated)
        .map(([d, r]) => `${r.populated.runs ?? results.populatedRuns} (${d})`)
        .join(', ') || 'none'
    } for the populated upgrade; the figures are medians.`,
    '',
    '![glance-db time divided by its baseline, per dialect and case, with the goals](performance.svg)',
    '',
    '## Goals',
    '',
    'Each goal, per dialect, with what this run measured. Ratios are of medians; "executable" is the single executable (`npm run package`, docs/guide/install.md "Single executable"), "glance-db" the npm-installed CLI (`node bin/run.js`).',
    '',
    '| dialect | goal | measured | verdict |',
    '|---|---|---|---|',
  ];
  const verdict = (ok) => (ok == null ? 'n/a' : ok ? 'met' : '**missed**');
  const under = (x, g) => (x == null || !Number.isFinite(x) ? null : x <= g);
  const ahead = (x) => (x == null || !Number.isFinite(x) ? null : x >= 1);
  /** The better of the CLI's and the executable's figure (either one meeting the goal meets it). */
  const best = (...xs) =>
    xs.some((x) => x != null && Number.isFinite(x))
      ? Math.max(...xs.filter((x) => x != null && Number.isFinite(x)))
      : null;
  for (const [d, r] of Object.entries(results.dialects)) {
    const q = ratios(r);
    const goal = (text, measured, ok) => lines.push(`| ${d} | ${text} | ${measured} | ${verdict(ok)} |`);
    goal(
      `start-up: \`version\` within ${GOALS.startup}x \`node -e 0\``,
      `${ratio(q.startup)} (${ms(r.startup.glanceDb)}); executable ${ratio(q.startupExe)} (${ms(r.startup.executable)})`,
      under(
        q.startupExe != null && Number.isFinite(q.startupExe) ? Math.min(q.startup, q.startupExe) : q.startup,
        GOALS.startup,
      ),
    );
    goal(
      'start-up: faster than dbmate `status`',
      `dbmate ${ms(r.startup.dbmate)}; dbmate / glance-db ${ratio(q.dbmateStartup)}, dbmate / executable ${ratio(q.dbmateStartupExe)}`,
      ahead(best(q.dbmateStartup, q.dbmateStartupExe)),
    );
    const least = (...xs) =>
      xs.some((x) => x != null && Number.isFinite(x))
        ? Math.min(...xs.filter((x) => x != null && Number.isFinite(x)))
        : null;
    if (r.noop)
      goal(
        `no-op sync (already at 51): within ${GOALS.noopDbmate}x dbmate's no-op \`up\``,
        `glance-db / dbmate ${ratio(q.noopOverDbmate)} (${ms(r.noop.glanceDb)} against ${ms(r.noop.dbmate)}), executable / dbmate ${ratio(q.noopOverDbmateExe)} (${ms(r.noop.executable)})`,
        under(least(q.noopOverDbmate, q.noopOverDbmateExe), GOALS.noopDbmate),
      );
    goal(
      `fresh sync to 51: within ${GOALS.freshDbmate}x dbmate \`up\``,
      `glance-db / dbmate ${ratio(q.freshOverDbmate)} (${ms(r.fresh.glanceDb)} against ${ms(r.fresh.dbmate)}), executable / dbmate ${ratio(q.freshOverDbmateExe)} (${ms(r.fresh.executable)})`,
      under(least(q.freshOverDbmate, q.freshOverDbmateExe), GOALS.freshDbmate),
    );
    goal(
      `fresh sync to 51: within ${GOALS.fresh}x the raw client plus the node floor`,
      ratio(q.fresh),
      under(q.fresh, GOALS.fresh),
    );
    if (r.populated) {
      const g = goalOf(d, 'populated');
      goal(
        `populated upgrade 44 to 51: within ${g}x the ${d === 'sqlite' ? 'sqlite3 shell' : 'raw client'}`,
        `${ratio(q.populated)} (${ms(r.populated.glanceDb)} against ${ms(r.populated.raw)})`,
        under(q.populated, g),
      );
      goal(
        'populated upgrade 44 to 51: ahead of dbmate',
        `dbmate ${ms(r.populated.dbmate)}; dbmate / glance-db ${ratio(q.dbmatePopulated)}`,
        ahead(q.dbmatePopulated),
      );
      if (d === 'sqlite')
        goal(
          `populated upgrade: peak memory within ${GOALS.memorySqlite}x the file`,
          `${ratio(q.memory)} (${mib(r.populated.peakRssKiB)} for ${gb(r.populated.sizeBytes)})`,
          under(q.memory, GOALS.memorySqlite),
        );
    }
  }
  lines.push(
    '',
    '## Medians',
    '',
    'dbmate runs the same SQL files as its own migrations (`status` for start-up, `up` for the syncs), without checksums or Glance\'s bookkeeping; "dbmate / glance-db" above 1 means glance-db is faster.',
    '',
    '| dialect | case | node -e 0 | glance-db | executable | raw client | dbmate | dbmate / glance-db | glance-manage | glance-manage / glance-db |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [d, r] of Object.entries(results.dialects)) {
    const q = ratios(r);
    lines.push(
      `| ${d} | start-up (\`version\`) | ${ms(r.startup.node)} | ${ms(r.startup.glanceDb)} | ${ms(r.startup.executable)} | | ${ms(r.startup.dbmate)} | ${ratio(q.dbmateStartup)} | ${ms(r.startup.glanceManage)} | ${ratio(q.manageStartup)} |`,
    );
    lines.push(
      `| ${d} | fresh sync to 51 | ${ms(r.fresh.node)} | ${ms(r.fresh.glanceDb)} | ${ms(r.fresh.executable)} | ${ms(r.fresh.raw)} | ${ms(r.fresh.dbmate)} | ${ratio(q.dbmateFresh)} | | |`,
    );
    if (r.noop)
      lines.push(
        `| ${d} | no-op sync (already at 51) | ${ms(r.noop.node)} | ${ms(r.noop.glanceDb)} | ${ms(r.noop.executable)} | ${ms(r.noop.raw)} | ${ms(r.noop.dbmate)} | ${ratio(r.noop.dbmate ? r.noop.dbmate / r.noop.glanceDb : null)} | | |`,
      );
    lines.push(
      `| ${d} | fresh sync to 50 (glance-manage's head) | | ${ms(r.fresh.glanceDb50)} | | | | | ${ms(r.fresh.glanceManage)} | ${ratio(q.manageFresh)} |`,
    );
    if (r.populated)
      lines.push(
        `| ${d} | populated upgrade 44 to 51 | | ${ms(r.populated.glanceDb)} | | ${ms(r.populated.raw)} | ${ms(r.populated.dbmate)} | ${ratio(q.dbmatePopulated)} | | |`,
      );
  }
  const trips = Object.entries(results.dialects).filter(([, r]) => r.roundTrips);
  if (trips.length) {
    lines.push(
      '',
      '## Round trips',
      '',
      'Requests glance-db sends to the server per command, counted by the client (`GLANCE_DB_ROUND_TRIPS=FILE`, src/platform/round-trips.ts: every statement, BEGIN and COMMIT of the run\'s own connections; a mysql2 `execute()` that prepares its statement counts 2). The raw client\'s "no-op" is one `SELECT MAX(version)` of the version table.',
      '',
      '| dialect | no-op sync | fresh sync to 51 | `version` |',
      '|---|---|---|---|',
    );
    for (const [d, r] of trips)
      lines.push(`| ${d} | ${r.roundTrips.noop.count} | ${r.roundTrips.fresh.count} | ${r.roundTrips.version.count} |`);
  }
  const pop = Object.entries(results.dialects).filter(([, r]) => r.populated);
  if (pop.length) {
    lines.push(
      '',
      `## Populated upgrade: ${results.images.toLocaleString('en')} images`,
      '',
      `A v44 database generated by \`bench/populate.mjs\` (seed ${results.seed}): per image 5 properties, 1 location, 2 tags; every fifth image shared with a member.`,
      '',
      '| dialect | database size | visibility step (45) | rows/s of the visibility step | glance-db peak RSS |',
      '|---|---|---|---|---|',
    );
    for (const [d, r] of pop) {
      const p = r.populated;
      lines.push(
        `| ${d} | ${gb(p.sizeBytes)} | ${ms(p.visibilityMs)} | ${Math.round(p.visibilityRowsPerS).toLocaleString('en')} | ${mib(p.peakRssKiB)}${d === 'sqlite' ? ` (${((p.peakRssKiB * 1024) / p.sizeBytes).toFixed(1)}x the file)` : ''} |`,
      );
    }
  }
  // The rolling-upgrade case (bench/rolling.mjs) keeps its section when this report is rewritten.
  // Without bench/out/rolling.json (a run of this script alone, on a machine where the rolling case did not run),
  // the section already in the document is kept as it is.
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const rolling = join(workDir(), 'rolling.json');
  const kept =
    previous.indexOf(ROLLING_BEGIN) >= 0 && previous.indexOf(ROLLING_END) > previous.indexOf(ROLLING_BEGIN)
      ? previous.slice(previous.indexOf(ROLLING_BEGIN), previous.indexOf(ROLLING_END) + ROLLING_END.length)
      : null;
  if (existsSync(rolling)) lines.push('', rollingSection(JSON.parse(readFileSync(rolling, 'utf8'))));
  else if (kept) lines.push('', kept);
  lines.push(
    '',
    '## Rerun',
    '',
    '```sh',
    'npm ci',
    `npm run bench -- --runs ${results.runs} --images ${results.images} --populated-runs ${results.populatedRuns}`,
    '```',
    '',
    "Needs the servers of docs/contributing/tests.md, the sqlite3, psql and mariadb clients, GNU time, and (optional) Debian's `glance-common python3-glance python3-psycopg2 python3-pymysql` for the glance-manage columns. dbmate is installed into bench/out/tools and the single executable built into bench/out/sea on the first run. Raw results go to bench/out/results.json.",
    '',
  );
  const hand = previous.indexOf(HAND_WRITTEN);
  lines.push(HAND_WRITTEN, hand >= 0 ? previous.slice(hand + HAND_WRITTEN.length).replace(/^\n*/, '\n') : '');
  return lines.join('\n').replace(/\n*$/, '\n');
}
