// The rolling-upgrade section of docs/performance.md, from
// bench/out/rolling.json (pure). bench/rolling.mjs splices it between its
// markers; bench/report.mjs puts it back when it rewrites the file.
import { GOAL, goalMet } from './rolling-stats.mjs';

export const BEGIN = '<!-- rolling:begin (written by bench/rolling.mjs) -->';
export const END = '<!-- rolling:end -->';
const OPS = ['get', 'list', 'create', 'update', 'delete'];

const ms = (x) =>
  x == null || !Number.isFinite(x)
    ? 'n/a'
    : x >= 10000
      ? `${(x / 1000).toFixed(1)} s`
      : x >= 100
        ? `${Math.round(x)} ms`
        : `${x.toFixed(1)} ms`;
const failed = (s) =>
  s
    ? `${s.failed} of ${s.count}${s.failed && s.old && s.new ? ` (old ${s.old.failed}, new ${s.new.failed})` : ''}${s.deadlockRetried ? `; ${s.deadlockRetried} retried after a deadlock` : ''}`
    : 'n/a';
const clean = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The section's Markdown, markers included. */
export function rollingSection(r) {
  const lines = [BEGIN, '## Rolling upgrade under load (issue 19)', ''];
  lines.push(
    `Written by \`node bench/rolling.mjs\` on ${String(r.when).slice(0, 10)} (also part of \`npm run bench\`). ` +
      `${(r.images ?? 0).toLocaleString('en')} images at version 44 (\`bench/populate.mjs\`, seed ${r.seed}), ` +
      `${r.rate} operations/s per client, a pool of ${r.poolSize} connections each, ${r.warmS} s of load before the upgrade and ${r.tailS} s after it. ` +
      `Machine: ${r.machine?.cpu ?? '?'}, ${r.machine?.cores ?? '?'} cores; PostgreSQL ${r.versions?.postgresql ?? '?'}, MariaDB ${r.versions?.mariadb ?? '?'}.`,
    '',
  );
  lines.push(
    `**Goal for the rolling path: zero failed operations, p99 under ${GOAL.p99Ms} ms, longest stall under ${GOAL.stallMs / 1000} s, data right afterwards.** ` +
      '`sync` (stop-the-world) is measured beside it with the same workload left running, to show what an API that is not stopped sees.',
    '',
  );
  lines.push('![latency over time during sync and during expand, migrate, contract](rolling.svg)', '');
  lines.push(
    '| server | path | upgrade took | failed operations | p99 | max | longest stall | data right afterwards | goal | p99 before the upgrade |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [server, s] of Object.entries(r.servers ?? {})) {
    for (const path of ['sync', 'rolling']) {
      const run = s[path];
      if (!run || run.skipped) {
        lines.push(`| ${server} | ${path} | skipped: ${clean(run?.skipped ?? 'not run')} | | | | | | | |`);
        continue;
      }
      const g = goalMet(run);
      const verdict =
        path === 'rolling'
          ? Object.values(g).every(Boolean)
            ? 'met'
            : `**not met** (${Object.entries(g)
                .filter(([, v]) => !v)
                .map(([k]) => k)
                .join(', ')})`
          : '(reference)';
      lines.push(
        `| ${server} | ${path === 'sync' ? '`sync`' : '`expand`, `migrate`, `contract`'} | ${upgradeTook(run)} | ${failed(run.ops.all)} | ${ms(run.ops.all.p99)} | ${ms(run.ops.all.max)} | ${stallText(run.stall)} | ${dataText(run)} | ${verdict} | ${ms(run.before?.p99)} |`,
      );
    }
  }
  lines.push(
    '',
    '### Per operation',
    '',
    '| server | operation | sync: failed | sync: p99 | sync: max | rolling: failed | rolling: p99 | rolling: max |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [server, s] of Object.entries(r.servers ?? {})) {
    for (const op of OPS) {
      const a = s.sync?.ops?.[op];
      const b = s.rolling?.ops?.[op];
      lines.push(
        `| ${server} | ${op} | ${failed(a)} | ${ms(a?.p99)} | ${ms(a?.max)} | ${failed(b)} | ${ms(b?.p99)} | ${ms(b?.max)} |`,
      );
    }
  }
  lines.push('', '### Phases and first errors', '');
  for (const [server, s] of Object.entries(r.servers ?? {})) {
    for (const path of ['sync', 'rolling']) {
      const run = s[path];
      if (!run || run.skipped) continue;
      const phases = (run.phases ?? [])
        .map((p) => `\`${p.name}\` ${ms(p.end - p.start)}${p.exit !== 0 ? ` (exit ${p.exit}${whyFailed(p)})` : ''}`)
        .join(', ');
      const errs = Object.entries(run.ops)
        .filter(([k]) => k !== 'all')
        .flatMap(([op, x]) => ['old', 'new'].filter((c) => x[c]?.errors).map((c) => `${c} ${op}: ${x[c].errors[0]}`));
      lines.push(
        `- ${server}, ${path}: ${phases}.${run.check?.mismatches ? ` Data: ${run.check.mismatches} image(s) with a wrong visibility, e.g. ${clean(run.check.examples.slice(0, 2).join('; '))}.` : ''}${errs.length ? ` First errors: ${clean(errs.slice(0, 4).join('; '))}.` : ''}`,
      );
    }
  }
  lines.push(
    '',
    '### How it runs',
    '',
    'Per server, a version-44 database is populated, then each path starts from the same data. ' +
      'Two clients run a Glance-like mix (get 40 %, list 20 %, create 15 %, update 15 %, delete 10 %) at a fixed rate, each operation started when due whatever the others are doing, ' +
      'so latency counts from when it was due (time spent queued behind a blocked connection included); "p99 before the upgrade" is the same workload in the seconds before the first phase, what the machine gives without an upgrade. ' +
      'The **old** client is a pre-Ocata glance-api (reads and writes `is_public`, never `visibility`); the **new** one a 2024.1 glance-api (`visibility`, `os_hidden`, never `is_public`). ' +
      'Rolling path, as kolla-ansible does it: old client alone, `expand` and `migrate` with the old client running, then the new client starts beside it (nodes upgraded one by one: both write during the window), then the old client is retired and `contract` runs (new client only); a new-release node before `migrate` ends would not list the public images whose visibility is still NULL. ' +
      '`sync` path: old client alone, `sync` with the old client still running, then old client stopped and new one started; in a real stop-the-world upgrade the API would be down for the whole `sync` instead. ' +
      'A failed operation is one the database refused (a vanished column, a timeout); a write that meets a deadlock is retried after 500 ms as Glance does (counted as retried, its wait in its latency); the longest stall is the longer of the longest time in which no operation of any client succeeded and the longest single operation. ' +
      '"Data right" means every image has the visibility Glance\'s rules give (docs/glance-versions.md for untouched images, the compatibility triggers\' rules for those written during the window; where the two legitimately differ by timing, either is accepted) and `glance-db verify` matches version 51.',
    '',
  );
  lines.push(
    'Rerun (alone, on a quiet machine; results in `bench/out/rolling.json`):',
    '',
    '```sh',
    `node bench/rolling.mjs --images ${r.images} --rate ${r.rate}`,
    '```',
    '',
    END,
  );
  return lines.join('\n');
}

/** A failed phase's error line from glance-db's output, shortened. */
function whyFailed(p) {
  const line = p.error ?? (p.out ?? []).find((l) => /^error:/.test(l.trim()));
  return line ? `: ${clean(line.trim().slice(0, 200))}` : '';
}

function upgradeTook(run) {
  const ph = run.phases ?? [];
  if (!ph.length) return 'n/a';
  const failedPhase = ph.find((p) => p.exit !== 0);
  return `${ms(ph.at(-1).end - ph[0].start)}${failedPhase ? ` (**${failedPhase.name} failed, exit ${failedPhase.exit}**)` : ''}`;
}

function stallText(s) {
  if (!s) return 'n/a';
  const what =
    s.gap.ms >= s.longestOp.ms
      ? `no operation succeeded for ${ms(s.gap.ms)}`
      : `one ${s.longestOp.op} took ${ms(s.longestOp.ms)}`;
  return `${ms(s.ms)} (${what})`;
}

function dataText(run) {
  const v = run.verify?.ok ? `verify: ${run.verify.text}` : `verify: **${clean(run.verify?.text ?? 'not run')}**`;
  if (!run.check) return `not checked; ${v}`;
  return `${run.check.ok ? 'yes' : `**no: ${run.check.mismatches} wrong**`} (${run.check.touched} written, ${run.check.ambiguous} either way); ${v}`;
}

/** `doc` with the section between the markers replaced, or inserted before "## Rerun" (else appended). */
export function spliceSection(doc, section) {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a >= 0 && b > a) return doc.slice(0, a) + section + doc.slice(b + END.length);
  const rerun = doc.indexOf('\n## Rerun');
  if (rerun >= 0) return `${doc.slice(0, rerun + 1)}${section}\n\n${doc.slice(rerun + 1)}`;
  return `${doc.replace(/\n*$/, '\n\n')}${section}\n`;
}
