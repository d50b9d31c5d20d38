'use strict';
// Timing loops with iteration and time budgets. Every sample is one call, timed with
// process.hrtime.bigint and returned in microseconds.
const { summarize } = require('./stats');

/**
 * A budget: warm up for `warmupIters` calls (at most `warmupMs`), then measure until at least
 * `minIters` calls and `minMs` have passed, or `maxMs` has passed (always at least one call), or
 * `maxIters` calls were made.
 */
const DEFAULT_BUDGET = { warmupIters: 10, warmupMs: 500, minIters: 200, minMs: 1000, maxMs: 2000, maxIters: 20000 };

function elapsedMs(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function shouldStop(n, ms, b) {
  return n >= b.maxIters || (n >= 1 && ms >= b.maxMs) || (n >= b.minIters && ms >= b.minMs);
}

/** Times fn(i) for i = 0, 1, …; returns summarize() of the samples in µs. */
function measureSync(fn, budget) {
  const b = { ...DEFAULT_BUDGET, ...budget };
  const warm = process.hrtime.bigint();
  for (let i = 0; i < b.warmupIters && (i === 0 || elapsedMs(warm) < b.warmupMs); i++) fn(i);
  const samples = [];
  const start = process.hrtime.bigint();
  for (let i = 0; !shouldStop(samples.length, elapsedMs(start), b); i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return summarize(samples);
}

/** measureSync for functions returning promises: each call is awaited before the next starts. */
async function measureAsync(fn, budget) {
  const b = { ...DEFAULT_BUDGET, ...budget };
  const warm = process.hrtime.bigint();
  for (let i = 0; i < b.warmupIters && (i === 0 || elapsedMs(warm) < b.warmupMs); i++) await fn(i);
  const samples = [];
  const start = process.hrtime.bigint();
  for (let i = 0; !shouldStop(samples.length, elapsedMs(start), b); i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return summarize(samples);
}

module.exports = { measureSync, measureAsync, DEFAULT_BUDGET };
