'use strict';
// Item-item neighbourhood models: build time (native co-occurrence counting + exact top-N per item)
// and per-user recommend latency from a history, against plain JavaScript doing the same work on the
// same seeded data in this process.
//
// args: { configs: [{ label, users, items, interactions }], neighbours, history, k, threads: number[],
//         seed, queries, buildBudget, jsBuildBudget, budget, jsBudget, batchQueries }
const { loadRecbridge } = require('../lib/recbridge');
const { powerLawInteractions } = require('../lib/train-data');
const { measureSync, measureAsync } = require('../lib/measure');
const { emit, log, collectGarbage, runCase } = require('../lib/child');

// Plain-JS cosine item-item build: the same algorithm (dense accumulator per item row, users in
// order), a sorted top-N per item. Single-threaded.
function jsBuild(offsets, indices, users, items, neighbours) {
  const itemOff = new Int32Array(items + 1);
  for (let p = 0; p < indices.length; p++) itemOff[indices[p] + 1]++;
  for (let i = 0; i < items; i++) itemOff[i + 1] += itemOff[i];
  const itemUsers = new Int32Array(indices.length);
  const fill = itemOff.slice(0, items);
  for (let u = 0; u < users; u++) for (let p = offsets[u]; p < offsets[u + 1]; p++) itemUsers[fill[indices[p]]++] = u;
  const norm = new Float64Array(items);
  for (let i = 0; i < items; i++) norm[i] = Math.sqrt(itemOff[i + 1] - itemOff[i]);
  const acc = new Float64Array(items);
  const touched = new Int32Array(items);
  const outIdx = new Int32Array(items * neighbours);
  const outScore = new Float32Array(items * neighbours);
  let stored = 0;
  for (let i = 0; i < items; i++) {
    let nt = 0;
    for (let e = itemOff[i]; e < itemOff[i + 1]; e++) {
      const u = itemUsers[e];
      for (let p = offsets[u]; p < offsets[u + 1]; p++) {
        const j = indices[p];
        if (acc[j] === 0) touched[nt++] = j;
        acc[j] += 1;
      }
    }
    const cands = [];
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      if (j !== i) cands.push({ j, s: acc[j] / (norm[i] * norm[j]) });
      acc[j] = 0;
    }
    cands.sort((a, b) => b.s - a.s || a.j - b.j);
    const n = Math.min(neighbours, cands.length);
    for (let t = 0; t < n; t++) {
      outIdx[stored] = cands[t].j;
      outScore[stored++] = cands[t].s;
    }
  }
  return stored;
}

// Plain-JS recommend: accumulate neighbour lists into a dense array, mask the history, sort the touched.
function jsRecommend(graph, history, k, acc) {
  const touched = [];
  for (const i of history) {
    for (let p = graph.offsets[i]; p < graph.offsets[i + 1]; p++) {
      const j = graph.indices[p];
      if (acc[j] === 0) touched.push(j);
      acc[j] += graph.scores[p];
    }
  }
  const hist = new Set(history);
  const cands = [];
  for (const j of touched) {
    if (!hist.has(j)) cands.push({ j, s: acc[j] });
    acc[j] = 0;
  }
  cands.sort((a, b) => b.s - a.s || a.j - b.j);
  return cands.slice(0, k).map((c) => c.j);
}

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const isa = rb.capabilities().isa;
  for (const cfg of args.configs) {
    const data = powerLawInteractions(cfg.users, cfg.items, cfg.interactions, args.seed);
    const { offsets, indices } = data.byUser();
    const distinct = indices.length;
    let pairsTouched = 0; // Σ_u n_u², the co-occurrence work
    for (let u = 0; u < cfg.users; u++) pairsTouched += (offsets[u + 1] - offsets[u]) ** 2;
    const params = {
      label: cfg.label,
      users: cfg.users,
      items: cfg.items,
      interactions: cfg.interactions,
      distinct,
      pairsTouched,
      neighbours: args.neighbours,
      isa,
    };

    const js = measureSync(() => jsBuild(offsets, indices, cfg.users, cfg.items, args.neighbours), args.jsBuildBudget);
    log(`${cfg.label}: js build median ${(js.median / 1e3).toFixed(1)} ms over ${js.n}`);
    let model;
    for (const threads of args.threads) {
      for (const similarity of ['cosine', 'bm25']) {
        const r = await measureAsync(async () => {
          model = await rb.ItemKnn.fit(data, { similarity, neighbours: args.neighbours, threads });
        }, args.buildBudget);
        log(`${cfg.label}: ${similarity} build threads=${threads} median ${(r.median / 1e3).toFixed(1)} ms over ${r.n}`);
        const p = { ...params, similarity, threads, samples: r.n };
        if (similarity === 'cosine') {
          emit({
            name: 'item-knn/build',
            value: r.median / 1e3,
            unit: 'ms',
            baseline: 'js-loop',
            baselineValue: js.median / 1e3,
            ratio: js.median / r.median,
            params: { ...p, baselineThreads: 1, baselineSamples: js.n },
          });
        } else {
          emit({ name: 'item-knn/build', value: r.median / 1e3, unit: 'ms', params: p });
        }
      }
    }
    model = await rb.ItemKnn.fit(data, { similarity: 'cosine', neighbours: args.neighbours });
    params.storedNeighbours = model.storedNeighbours;

    // Histories: args.history distinct items drawn from the training distribution, per query.
    const u = rb.uniformGenerator(args.seed + 7);
    const histories = [];
    for (let q = 0; q < args.queries; q++) {
      const set = new Set();
      while (set.size < Math.min(args.history, cfg.items)) set.add(Math.min(cfg.items - 1, Math.floor(cfg.items * u() ** 3)));
      histories.push(Int32Array.from(set));
    }
    const graph = model.toArrays();
    const acc = new Float64Array(cfg.items);
    const agree = jsRecommend(graph, histories[0], args.k, acc).join() === Array.from(model.recommend(histories[0], args.k).indices).join();
    const one = measureSync((i) => model.recommend(histories[i % histories.length], args.k), args.budget);
    const jsRec = measureSync((i) => jsRecommend(graph, histories[i % histories.length], args.k, acc), args.jsBudget);
    log(`${cfg.label}: recommend median ${one.median.toFixed(1)} µs (p99 ${one.p99.toFixed(1)}), js ${jsRec.median.toFixed(1)} µs`);
    const rp = { ...params, history: args.history, k: args.k, samples: one.n, queryPool: args.queries };
    emit({
      name: 'item-knn/recommend-latency-median',
      value: one.median,
      unit: 'us',
      baseline: 'js-loop',
      baselineValue: jsRec.median,
      ratio: jsRec.median / one.median,
      params: { ...rp, baselineThreads: 1, baselineSamples: jsRec.n, baselineTopKAgrees: agree },
    });
    emit({ name: 'item-knn/recommend-latency-p99', value: one.p99, unit: 'us', params: rp });

    for (const threads of args.threads) {
      const batch = histories.slice(0, args.batchQueries);
      const r = await measureAsync(() => model.recommendBatch(batch, args.k, { threads }), args.buildBudget);
      emit({
        name: 'item-knn/recommend-batch',
        value: (batch.length / r.median) * 1e6,
        unit: 'queries/s',
        params: { ...rp, threads, queries: batch.length, samples: r.n },
      });
    }
    model = null;
    collectGarbage();
  }
});
