// The chart of the rolling-upgrade benchmark (docs/rolling.svg): latency
// over time, one panel per server and path (sync | rolling), the largest
// latency of each 100 ms as a line on a log scale, failed operations as red
// ticks along the top, the upgrade's phases shaded and labelled, and the
// goal lines (100 ms p99, 1 s stall). Plain SVG text, no dependencies.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PHASE_FILL = { sync: '#f6d5d1', expand: '#d6e6f5', migrate: '#fbe7c6', contract: '#dcefd9' };
const fmt = (ms) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

/**
 * results.servers: { [server]: { sync: run, rolling: run } }, a run having
 * series [{ t, max, n, failed }], phases [{ name, start, end }], events
 * [{ name, t }], durationMs; or { skipped: reason }.
 */
export function rollingChart(results) {
  const servers = Object.keys(results.servers ?? {});
  const paths = ['sync', 'rolling'];
  const panelW = 420,
    panelH = 190,
    left = 60,
    gapX = 70,
    top = 50,
    rowH = panelH + 80;
  const W = left + 2 * panelW + gapX + 20;
  const H = top + Math.max(1, servers.length) * rowH + 20;
  let maxLat = 1000;
  for (const s of servers)
    for (const p of paths) for (const b of results.servers[s][p]?.series ?? []) maxLat = Math.max(maxLat, b.max);
  const yMin = 0.1;
  const yMax = 10 ** Math.ceil(Math.log10(maxLat * 1.01));
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Latency during the upgrade 44 to 51: largest per 100 ms (log scale); red ticks = failed operations</text>`,
    `<text x="${left}" y="36" fill="#555">${esc(`${(results.images ?? 0).toLocaleString('en')} images, ${results.rate ?? '?'} operations/s per client; dashed: 100 ms and 1 s`)}</text>`,
  ];
  if (!servers.length) out.push(`<text x="${left}" y="${top + 20}">no runs</text>`);
  servers.forEach((server, row) => {
    paths.forEach((path, col) => {
      const x0 = left + col * (panelW + gapX);
      const y0 = top + row * rowH + 18;
      out.push(
        ...panel(
          results.servers[server][path],
          `${server}: ${path === 'sync' ? 'sync (stop-the-world)' : 'expand, migrate, contract'}`,
          x0,
          y0,
          panelW,
          panelH,
          yMin,
          yMax,
        ),
      );
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function panel(run, title, x0, y0, w, h, yMin, yMax) {
  const out = [`<text x="${x0}" y="${y0 - 4}" font-weight="bold">${esc(title)}</text>`];
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  if (!run || run.skipped || !run.series) {
    out.push(
      `<text x="${x0 + 10}" y="${y0 + h / 2}" fill="#a00">${esc(run?.skipped ? `skipped: ${run.skipped}` : 'not run')}</text>`,
    );
    return out;
  }
  const dur = Math.max(1, run.durationMs ?? Math.max(...run.series.map((b) => b.t), 1));
  const x = (t) => x0 + (Math.min(Math.max(t, 0), dur) / dur) * w;
  const y = (ms) =>
    y0 + h - ((Math.log10(Math.max(ms, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * h;
  // Labels on alternate lines, so that a short phase's name does not run into the next one's.
  (run.phases ?? []).forEach((p, k) => {
    out.push(
      `<rect x="${x(p.start).toFixed(1)}" y="${y0}" width="${Math.max(1, x(p.end) - x(p.start)).toFixed(1)}" height="${h}" fill="${PHASE_FILL[p.name] ?? '#eee'}"/>`,
    );
    out.push(
      `<text x="${(x(p.start) + 2).toFixed(1)}" y="${y0 + h + 24 + (k % 2) * 11}" fill="${p.exit && p.exit !== 0 ? '#c0392b' : '#333'}">${esc(p.exit && p.exit !== 0 ? `${p.name} (failed, exit ${p.exit})` : p.name)}</text>`,
    );
  });
  (run.events ?? []).forEach((e, k) => {
    const ly = y0 + h + 46 + (k % 2) * 10;
    out.push(
      `<line x1="${x(e.t).toFixed(1)}" x2="${x(e.t).toFixed(1)}" y1="${y0}" y2="${ly - 8}" stroke="#777" stroke-dasharray="2,3"/>`,
    );
    out.push(`<text x="${(x(e.t) + 2).toFixed(1)}" y="${ly}" font-size="9" fill="#555">${esc(e.name)}</text>`);
  });
  // Decades on the y axis, seconds on the x axis.
  for (let d = yMin; d <= yMax * 1.001; d *= 10) {
    const v = Number(d.toPrecision(1));
    out.push(
      `<line x1="${x0}" x2="${x0 + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${x0 - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(v)}</text>`,
    );
  }
  const step = niceStep(dur / 1000);
  for (let s = 0; s * 1000 <= dur; s += step)
    out.push(`<text x="${x(s * 1000).toFixed(1)}" y="${y0 + h + 12}" text-anchor="middle" fill="#555">${s}s</text>`);
  for (const goal of [100, 1000])
    out.push(
      `<line x1="${x0}" x2="${x0 + w}" y1="${y(goal).toFixed(1)}" y2="${y(goal).toFixed(1)}" stroke="#444" stroke-dasharray="6,4"/>`,
    );
  // The line breaks where a 100 ms passed with no operation finishing.
  const segs = [];
  let cur = [];
  let prevT = null;
  for (const b of run.series) {
    if (prevT !== null && b.t - prevT > 150) {
      segs.push(cur);
      cur = [];
    }
    cur.push(`${x(b.t).toFixed(1)},${y(b.max).toFixed(1)}`);
    prevT = b.t;
  }
  segs.push(cur);
  for (const s of segs.filter((s) => s.length)) {
    out.push(
      s.length === 1
        ? `<circle cx="${s[0].split(',')[0]}" cy="${s[0].split(',')[1]}" r="1.5" fill="#1f5fa8"/>`
        : `<polyline fill="none" stroke="#1f5fa8" stroke-width="1" points="${s.join(' ')}"/>`,
    );
  }
  for (const b of run.series.filter((b) => b.failed > 0))
    out.push(
      `<line x1="${x(b.t).toFixed(1)}" x2="${x(b.t).toFixed(1)}" y1="${y0}" y2="${y0 + 8}" stroke="#c0392b" stroke-width="1.5"/>`,
    );
  return out;
}

function niceStep(seconds) {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200]) if (seconds / s <= 10) return s;
  return 3600;
}
