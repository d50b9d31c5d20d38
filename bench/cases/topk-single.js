'use strict';
// Single-query exact top-k latency: recbridge.topK against a plain JS loop and onnxruntime-node
// (MatMul + TopK, batch 1), all on the same seeded table in this process.
//
// args: { rows, dim, k, threads: number[], seed, queries, budget, jsBudget, ortBudget }
const { loadRecbridge } = require('../lib/recbridge');
const { makeTable, makeQueries, queryAt } = require('../lib/data');
const { measureSync, measureAsync } = require('../lib/measure');
const { jsTopK, loadOrt, ortSessionOptions, scoringModelBytes, agreeingPrefix } = require('../lib/baselines');
const { emit, log, collectGarbage, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { rows, dim, k } = args;
  const isa = rb.capabilities().isa;
  const table = makeTable(rows, dim, args.seed);
  const pool = makeQueries(args.queries, dim, args.seed + 1);
  const bytesPerQuery = rows * dim * 4;
  const gbps = (us) => bytesPerQuery / (us * 1e3);
  const reference = rb.topK(table, queryAt(pool, dim, 0), k, { threads: 1 }).indices;

  const recbridge = {};
  for (const threads of args.threads) {
    recbridge[threads] = measureSync((i) => rb.topK(table, queryAt(pool, dim, i), k, { threads }), args.budget);
    log(`recbridge threads=${threads}: median ${recbridge[threads].median.toFixed(1)} µs over ${recbridge[threads].n} queries`);
  }

  const scratch = new Float32Array(rows);
  const js = measureSync((i) => jsTopK(table.data, rows, dim, queryAt(pool, dim, i), k, scratch), args.jsBudget);
  const jsAgrees = agreeingPrefix(jsTopK(table.data, rows, dim, queryAt(pool, dim, 0), k, scratch).indices, reference);
  log(`js loop: median ${js.median.toFixed(1)} µs over ${js.n} queries`);

  const ort = {};
  let ortSkipped = null;
  let ortAgrees = null;
  const { ort: ortLib, error } = loadOrt();
  if (error) {
    ortSkipped = error;
  } else {
    let model = scoringModelBytes(table, k);
    collectGarbage(); // the transposed copy of the items is garbage once the bytes exist
    const tensors = [];
    for (let q = 0; q < args.queries; q++) tensors.push(new ortLib.Tensor('float32', queryAt(pool, dim, q).slice(), [1, dim]));
    for (const threads of args.threads) {
      const session = await ortLib.InferenceSession.create(model, ortSessionOptions(threads));
      const first = await session.run({ query: tensors[0] });
      ortAgrees = agreeingPrefix(first.indices.data, reference);
      ort[threads] = await measureAsync((i) => session.run({ query: tensors[i % tensors.length] }), args.ortBudget);
      log(`onnxruntime threads=${threads}: median ${ort[threads].median.toFixed(1)} µs over ${ort[threads].n} queries`);
      await session.release();
      collectGarbage();
    }
    model = null;
    collectGarbage();
  }

  for (const threads of args.threads) {
    const r = recbridge[threads];
    const params = { rows, dim, k, threads, isa, samples: r.n, queryPool: args.queries };
    const jsParams = { ...params, baselineThreads: 1, baselineSamples: js.n, baselineTopKAgrees: jsAgrees === Math.min(k, rows) };
    emit({
      name: 'topk-single/latency-median',
      value: r.median,
      unit: 'us',
      baseline: 'js-loop',
      baselineValue: js.median,
      ratio: js.median / r.median,
      params: jsParams,
    });
    if (ort[threads]) {
      const o = ort[threads];
      const ortParams = { ...params, baselineThreads: threads, baselineSamples: o.n, baselineTopKAgrees: ortAgrees === Math.min(k, rows) };
      emit({
        name: 'topk-single/latency-median',
        value: r.median,
        unit: 'us',
        baseline: 'onnxruntime-node',
        baselineValue: o.median,
        ratio: o.median / r.median,
        params: ortParams,
      });
      emit({
        name: 'topk-single/latency-p99',
        value: r.p99,
        unit: 'us',
        baseline: 'onnxruntime-node',
        baselineValue: o.p99,
        ratio: o.p99 / r.p99,
        params: ortParams,
      });
    } else {
      emit({ name: 'topk-single/latency-p99', value: r.p99, unit: 'us', params: { ...params, baselineSkipped: ortSkipped } });
    }
    emit({ name: 'topk-single/bandwidth', value: gbps(r.median), unit: 'GB/s', params });
  }
});
