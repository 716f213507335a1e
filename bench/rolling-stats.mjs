// The pure arithmetic of the rolling-upgrade benchmark (bench/rolling.mjs):
// percentiles, the longest stall, latency over time. No I/O, so that
// test/rolling-bench-unit.test.ts can check it.
//
// An operation record is { c: client ('old' | 'new'), op, s, e, ok, err? }:
// s is when the operation was due (its slot in the fixed-rate schedule),
// e when it finished, both in ms since the workload started. Latency is
// e - s, so time an operation spent waiting for a pooled connection behind
// a blocked one counts (no coordinated omission).

/** Nearest-rank percentile (p in 0..100) of numbers; NaN when there are none. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1];
}

/** count, failed, p50, p99, max latency (ms) of a set of records; failures count in the latency too. */
export function summarize(records) {
  const lat = records.map((r) => r.e - r.s);
  const failed = records.filter((r) => !r.ok);
  // The first distinct error messages, enough to see what went wrong.
  const errors = [...new Set(failed.map((r) => r.err))].slice(0, 3);
  const retried = records.filter((r) => r.retries);
  return {
    count: records.length,
    failed: failed.length,
    // Operations that met a deadlock and succeeded (or not) on a later attempt, as Glance retries them.
    ...(retried.length ? { deadlockRetried: retried.length } : {}),
    p50: round(percentile(lat, 50)),
    p99: round(percentile(lat, 99)),
    max: lat.length ? round(lat.reduce((a, b) => Math.max(a, b))) : NaN,
    ...(errors.length ? { errors } : {}),
  };
}

/** Per operation ('get', 'list', ...), per client and in all, of a run's records. */
export function summarizeByOp(records) {
  const out = { all: summarize(records) };
  for (const op of [...new Set(records.map((r) => r.op))].sort()) {
    const mine = records.filter((r) => r.op === op);
    out[op] = summarize(mine);
    for (const c of [...new Set(mine.map((r) => r.c))].sort()) out[op][c] = summarize(mine.filter((r) => r.c === c));
  }
  return out;
}

/**
 * The longest interval in [from, to] during which nothing in `times`
 * happened: { ms, at } (at = where it began). Times outside are ignored.
 */
export function longestGap(times, from, to) {
  const t = Float64Array.from(times.filter((x) => x >= from && x <= to)).sort();
  let prev = from;
  let best = { ms: 0, at: from };
  for (const x of [...t, to]) {
    if (x - prev > best.ms) best = { ms: x - prev, at: prev };
    prev = x;
  }
  return { ms: round(best.ms), at: round(best.at) };
}

/**
 * The longest stall a client of the image API saw while the workload ran
 * (from..to): the longer of the longest interval in which no operation of any
 * client succeeded (an outage: failures do not count as service) and the
 * longest single operation.
 */
export function stall(records, from, to) {
  const gap = longestGap(
    records.filter((r) => r.ok).map((r) => r.e),
    from,
    to,
  );
  let op = { ms: 0, at: from, op: null };
  for (const r of records) if (r.e - r.s > op.ms) op = { ms: r.e - r.s, at: r.s, op: `${r.c} ${r.op}` };
  return { ms: round(Math.max(gap.ms, op.ms)), gap, longestOp: { ...op, ms: round(op.ms), at: round(op.at) } };
}

/**
 * Latency over time for the chart: per bucket of `bucketMs` (by completion
 * time) the largest latency, how many completed and how many failed.
 * Buckets with nothing in them are left out.
 */
export function timeSeries(records, bucketMs = 100) {
  const map = new Map();
  for (const r of records) {
    const k = Math.floor(r.e / bucketMs);
    const b = map.get(k) ?? { t: k * bucketMs, max: 0, n: 0, failed: 0 };
    b.max = Math.max(b.max, r.e - r.s);
    b.n += 1;
    if (!r.ok) b.failed += 1;
    map.set(k, b);
  }
  return [...map.values()].sort((a, b) => a.t - b.t).map((b) => ({ ...b, max: round(b.max) }));
}

/** The goal of issue 19 for the rolling path, checked against one run's figures. */
export const GOAL = { failed: 0, p99Ms: 100, stallMs: 1000 };

export function goalMet(run) {
  const s = run.ops.all;
  return {
    failed: s.failed <= GOAL.failed,
    p99: s.p99 < GOAL.p99Ms,
    stall: run.stall.ms < GOAL.stallMs,
    data: run.check?.ok === true && run.verify?.ok === true,
  };
}

function round(x) {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : x;
}
