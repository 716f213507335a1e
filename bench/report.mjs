// Turns bench results into docs/performance.md and docs/performance.svg.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, workDir } from './lib.mjs';
import { rollingSection } from './rolling-report.mjs';

export const GOALS = { startup: 2, fresh: 1.3, populated: 1.1 };

const ms = (x) => (x == null ? 'n/a' : x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const ratio = (x) => (x == null || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)}x`);
const mib = (kib) => `${Math.round(kib / 1024)} MiB`;
const gb = (b) => `${(b / 1e9).toFixed(2)} GB`;

/** The ratios the goals are about, per dialect. */
export function ratios(r) {
  return {
    startup: r.startup.glanceDb / r.startup.node,
    fresh: r.fresh.glanceDb / (r.fresh.raw + r.fresh.node),
    populated: r.populated ? r.populated.glanceDb / r.populated.raw : null,
    manageStartup: r.startup.glanceManage ? r.startup.glanceManage / r.startup.glanceDb : null,
    manageFresh: r.fresh.glanceManage ? r.fresh.glanceManage / r.fresh.glanceDb50 : null,
    // dbmate / glance-db: above 1 means glance-db is ahead.
    dbmateStartup: r.startup.dbmate ? r.startup.dbmate / r.startup.glanceDb : null,
    dbmateFresh: r.fresh.dbmate ? r.fresh.dbmate / r.fresh.glanceDb : null,
    dbmatePopulated: r.populated?.dbmate ? r.populated.dbmate / r.populated.glanceDb : null,
  };
}

function chart(results) {
  const rows = [];
  for (const [d, r] of Object.entries(results.dialects)) {
    const q = ratios(r);
    for (const k of ['startup', 'fresh', 'populated']) if (q[k] != null) rows.push({ label: `${d}: ${k === 'fresh' ? 'fresh sync' : k === 'populated' ? 'populated upgrade' : 'start-up'}`, value: q[k], goal: GOALS[k] });
  }
  const max = Math.max(4, ...rows.map((r) => Math.min(r.value, 20)));
  const W = 760, left = 230, barW = W - left - 60, rowH = 28, top = 40;
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
    parts.push(`<rect x="${left}" y="${y + 4}" width="${x(r.value) - left}" height="${rowH - 10}" fill="${ok ? '#3a7d44' : '#c0392b'}"/>`);
    parts.push(`<line x1="${x(r.goal)}" x2="${x(r.goal)}" y1="${y}" y2="${y + rowH - 2}" stroke="black" stroke-width="3"/>`);
    parts.push(`<text x="${x(r.value) + 6}" y="${y + 17}">${r.value.toFixed(2)}x${r.value > max ? ' (off scale)' : ''}</text>`);
  });
  for (let v = 0; v <= max; v += max > 10 ? 5 : 1) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top - 4}" y2="${H - 30}" stroke="#ddd"/><text x="${x(v)}" y="${H - 14}" text-anchor="middle" fill="#555">${v}x</text>`);
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
    `Every comparison ran interleaved (A B A B ...): ${results.runs} runs for start-up and fresh sync, ${Object.entries(results.dialects).filter(([, r]) => r.populated).map(([d, r]) => `${r.populated.runs ?? results.populatedRuns} (${d})`).join(', ') || 'none'} for the populated upgrade; the figures are medians.`,
    '',
    '![glance-db time divided by its baseline, per dialect and case, with the goals](performance.svg)',
    '',
    '## Goals',
    '',
    '| dialect | start-up: glance-db version / node -e 0 (goal <= 2x) | fresh sync to 51: glance-db / (raw client + node floor) (goal <= 1.3x) | populated upgrade 44 to 51: glance-db / raw client (goal <= 1.1x) |',
    '|---|---|---|---|',
  ];
  const mark = (x, g) => (x == null ? 'n/a' : `${ratio(x)} ${x <= g ? 'met' : '**missed**'}`);
  for (const [d, r] of Object.entries(results.dialects)) {
    const q = ratios(r);
    lines.push(`| ${d} | ${mark(q.startup, GOALS.startup)} | ${mark(q.fresh, GOALS.fresh)} | ${mark(q.populated, GOALS.populated)} |`);
  }
  lines.push('', '## Medians', '', 'dbmate runs the same SQL files as its own migrations (`status` for start-up, `up` for the syncs), without checksums or Glance\'s bookkeeping; "dbmate / glance-db" above 1 means glance-db is faster.', '',
    '| dialect | case | node -e 0 | glance-db | raw client | dbmate | dbmate / glance-db | glance-manage | glance-manage / glance-db |', '|---|---|---|---|---|---|---|---|---|');
  for (const [d, r] of Object.entries(results.dialects)) {
    const q = ratios(r);
    lines.push(`| ${d} | start-up (\`version\`) | ${ms(r.startup.node)} | ${ms(r.startup.glanceDb)} | | ${ms(r.startup.dbmate)} | ${ratio(q.dbmateStartup)} | ${ms(r.startup.glanceManage)} | ${ratio(q.manageStartup)} |`);
    lines.push(`| ${d} | fresh sync to 51 | ${ms(r.fresh.node)} | ${ms(r.fresh.glanceDb)} | ${ms(r.fresh.raw)} | ${ms(r.fresh.dbmate)} | ${ratio(q.dbmateFresh)} | | |`);
    lines.push(`| ${d} | fresh sync to 50 (glance-manage's head) | | ${ms(r.fresh.glanceDb50)} | | | | ${ms(r.fresh.glanceManage)} | ${ratio(q.manageFresh)} |`);
    if (r.populated) lines.push(`| ${d} | populated upgrade 44 to 51 | | ${ms(r.populated.glanceDb)} | ${ms(r.populated.raw)} | ${ms(r.populated.dbmate)} | ${ratio(q.dbmatePopulated)} | | |`);
  }
  const pop = Object.entries(results.dialects).filter(([, r]) => r.populated);
  if (pop.length) {
    lines.push('', `## Populated upgrade: ${results.images.toLocaleString('en')} images`, '',
      `A v44 database generated by \`bench/populate.mjs\` (seed ${results.seed}): per image 5 properties, 1 location, 2 tags; every fifth image shared with a member.`, '',
      '| dialect | database size | visibility step (45) | rows/s of the visibility step | glance-db peak RSS |', '|---|---|---|---|---|');
    for (const [d, r] of pop) {
      const p = r.populated;
      lines.push(`| ${d} | ${gb(p.sizeBytes)} | ${ms(p.visibilityMs)} | ${Math.round(p.visibilityRowsPerS).toLocaleString('en')} | ${mib(p.peakRssKiB)}${d === 'sqlite' ? ` (${(p.peakRssKiB * 1024 / p.sizeBytes).toFixed(1)}x the file)` : ''} |`);
    }
  }
  // The rolling-upgrade case (bench/rolling.mjs) keeps its section when this report is rewritten.
  const rolling = join(workDir(), 'rolling.json');
  if (existsSync(rolling)) lines.push('', rollingSection(JSON.parse(readFileSync(rolling, 'utf8'))));
  lines.push('', '## Rerun', '', '```sh', 'npm ci', `npm run bench -- --runs ${results.runs} --images ${results.images} --populated-runs ${results.populatedRuns}`, '```', '',
    'Needs the servers of README.md\'s test section, the sqlite3, psql and mariadb clients, GNU time, and (optional) Debian\'s `glance-common python3-glance python3-psycopg2 python3-pymysql` for the glance-manage columns. Raw results go to bench/out/results.json.', '');
  return lines.join('\n');
}
