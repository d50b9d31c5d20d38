'use strict';
// Order statistics over timing samples. Percentiles use the nearest-rank definition, so every
// reported value is a latency that was actually observed.

function sorted(samples) {
  return Float64Array.from(samples).sort();
}

/** Nearest-rank percentile p in (0, 100] of an ascending array. */
function percentileOfSorted(asc, p) {
  if (asc.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * asc.length);
  return asc[Math.min(asc.length, Math.max(1, rank)) - 1];
}

function median(samples) {
  const asc = sorted(samples);
  const n = asc.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? asc[(n - 1) / 2] : (asc[n / 2 - 1] + asc[n / 2]) / 2;
}

/** { n, median, p99, min, max, mean } of the samples (same unit as the samples). */
function summarize(samples) {
  const asc = sorted(samples);
  let sum = 0;
  for (const x of asc) sum += x;
  return {
    n: asc.length,
    median: median(asc),
    p99: percentileOfSorted(asc, 99),
    min: asc.length ? asc[0] : NaN,
    max: asc.length ? asc[asc.length - 1] : NaN,
    mean: asc.length ? sum / asc.length : NaN,
  };
}

module.exports = { median, summarize, percentileOfSorted };
