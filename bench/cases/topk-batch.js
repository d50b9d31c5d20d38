'use strict';
// Batched exact top-k throughput: recbridge.topKBatch against onnxruntime-node running the same
// MatMul + TopK model on the whole batch at once.
//
// args: { queries, rows, dim, k, threads: number[], seed, budget, ortBudget }
const { loadRecbridge } = require('../lib/recbridge');
const { makeTable, makeQueries } = require('../lib/data');
const { measureAsync } = require('../lib/measure');
const { loadOrt, ortSessionOptions, ortMemoryCheck, scoringModelBytes } = require('../lib/baselines');
const { emit, log, collectGarbage, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { rows, dim, k } = args;
  const nq = args.queries;
  const isa = rb.capabilities().isa;
  const table = makeTable(rows, dim, args.seed);
  const queries = makeQueries(nq, dim, args.seed + 1);
  const flops = 2 * nq * rows * dim;
  const gflops = (us) => flops / (us * 1e3);
  const reference = await rb.topKBatch(table, queries, k, { threads: 1 });

  const recbridge = {};
  for (const threads of args.threads) {
    recbridge[threads] = await measureAsync(() => rb.topKBatch(table, queries, k, { threads }), args.budget);
    log(`recbridge threads=${threads}: median ${(recbridge[threads].median / 1e3).toFixed(1)} ms over ${recbridge[threads].n} runs`);
  }

  const ort = {};
  let ortAgrees = null;
  const { ort: ortLib, error } = loadOrt();
  // The [queries, rows] score matrix ORT materialises between MatMul and TopK.
  const ortSkipped = error ?? ortMemoryCheck(table, nq * rows * 4);
  if (!ortSkipped) {
    let model = scoringModelBytes(table, k);
    collectGarbage(); // the transposed copy of the items is garbage once the bytes exist
    const input = new ortLib.Tensor('float32', queries, [nq, dim]);
    for (const threads of args.threads) {
      const session = await ortLib.InferenceSession.create(model, ortSessionOptions(threads));
      const first = await session.run({ query: input });
      let same = 0;
      for (let i = 0; i < reference.indices.length; i++) same += Number(first.indices.data[i]) === reference.indices[i] ? 1 : 0;
      ortAgrees = same / reference.indices.length;
      ort[threads] = await measureAsync(() => session.run({ query: input }), args.ortBudget);
      log(`onnxruntime threads=${threads}: median ${(ort[threads].median / 1e3).toFixed(1)} ms over ${ort[threads].n} runs`);
      await session.release();
      collectGarbage();
    }
    model = null;
    collectGarbage();
  } else {
    log(`onnxruntime baseline skipped: ${ortSkipped}`);
  }

  for (const threads of args.threads) {
    const r = recbridge[threads];
    const params = { queries: nq, rows, dim, k, threads, isa, samples: r.n };
    const o = ort[threads];
    if (o) {
      // Both compute the same exact top-k; float rounding can swap near-tied neighbours, so the
      // fraction of equal result slots is reported rather than asserted.
      const withBaseline = { ...params, baselineThreads: threads, baselineSamples: o.n, baselineTopKAgreement: ortAgrees };
      emit({
        name: 'topk-batch/throughput',
        value: gflops(r.median),
        unit: 'GFLOP/s',
        baseline: 'onnxruntime-node',
        baselineValue: gflops(o.median),
        ratio: o.median / r.median,
        params: withBaseline,
      });
      emit({
        name: 'topk-batch/latency-median',
        value: r.median / 1e3,
        unit: 'ms',
        baseline: 'onnxruntime-node',
        baselineValue: o.median / 1e3,
        ratio: o.median / r.median,
        params: withBaseline,
      });
    } else {
      const skipped = { ...params, baselineSkipped: ortSkipped };
      emit({ name: 'topk-batch/throughput', value: gflops(r.median), unit: 'GFLOP/s', params: skipped });
      emit({ name: 'topk-batch/latency-median', value: r.median / 1e3, unit: 'ms', params: skipped });
    }
  }
});
