// The text of `history`: the version table as a plain table, one row per
// version, then the lines that do not fit a cell (errors, superseded files,
// notes), what is pending and what glance-manage did.
import { camel, type HistoryListing } from '../app/list-history.js';
import { describeRolling } from '../core/phases.js';
import { shown } from './terminal.js';
import { EXPAND_CHAIN } from '../glance/revisions.js';

/** Added columns whose values are free text (JSON): printed on a line of their own under the table, like errors. */
const LONG_COLUMNS = new Set(['note', 'phases']);

/** A plain table, one row per version. */
export function historyText(h: HistoryListing): string {
  if (h.glance) {
    // Its own expand under way: glance-db migrate continues it, as check and db check say (glance/continue.ts).
    const expanded = Math.max(0, ...EXPAND_CHAIN.filter(([r]) => h.glance!.revisions.includes(r)).map(([, v]) => v));
    const rolling =
      expanded > h.glance.version
        ? `; its own rolling upgrade expanded to ${expanded}: glance-db migrate continues it (then contract), sync finishes it in one go`
        : '';
    return `no glance-db version table: the database is managed by glance-manage at version ${h.glance.version} (${h.glance.source}); glance-db sync takes it over (nothing run up to ${h.glance.version})${rolling}\n`;
  }
  const columns = h.columns.filter((c) => !LONG_COLUMNS.has(c));
  const head = ['version', 'name', 'kind', 'applied_at', 'ms', 'statements', 'checksum', 'file', 'tool', ...columns];
  // Every cell is the version table's own text: control characters and line breaks escaped, so no value can redraw or fake a row.
  const lines = h.entries.map((e) =>
    [
      String(e.version),
      e.name,
      e.kind,
      e.appliedAt,
      String(e.executionMs),
      `${e.statementsApplied}/${e.statementsTotal}`,
      e.checksum.replace(/^(sha256-lf:[0-9a-f]{12}).*$/, '$1...'),
      e.file,
      e.toolVersion,
      ...columns.map((c) => String(e[camel(c)] ?? '-')),
    ].map((cell) => shown(String(cell))),
  );
  const widths = head.map((_, i) => Math.max(head[i].length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [fmt(head), ...lines.map(fmt)];
  for (const e of h.entries) {
    if (e.error) out.push(`version ${e.version} error: ${shown(e.error)}`);
    for (const x of e.superseded ?? [])
      out.push(
        `version ${e.version} superseded: ${x.phase ? `its ${x.phase} phase ran` : 'it ran'} ${x.file} as ${x.ran}, since superseded by a fix (${x.now}, recorded in sql/checksums.lock)`,
      );
    for (const c of h.columns.filter((x) => LONG_COLUMNS.has(x)))
      if (e[camel(c)] != null) out.push(`version ${e.version} ${c}: ${shown(String(e[camel(c)]))}`);
  }
  if (h.pending.length) out.push(`pending: ${h.pending.join(', ')}`);
  if (h.rolling.underWay) out.push(describeRolling(h.rolling));
  if (h.handback) out.push(`glance-manage: ${h.handback}`);
  return `${out.join('\n')}\n`;
}
