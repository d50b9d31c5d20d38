'use strict';
// Recommender.recommend latency through Node (validation, id mapping and the native call included)
// for a known user with `seen` excluded items, on float32, bf16 and int8 item tables, and the
// recall@10 of the quantized tables against float32 exact (same exclusions), with and without rerank.
//
// args: { rows, dim, k, users, seen, kinds: string[], reranks: number[], seed, recallQueries, budget }
const { loadRecbridge } = require('../lib/recbridge');
const { measureSync } = require('../lib/measure');
const { emit, log, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { rows, dim, k, users } = args;
  const items = rb.EmbeddingTable.create(rows, dim, { init: 'normal', seed: args.seed });
  const userTable = rb.EmbeddingTable.create(users, dim, { init: 'normal', seed: args.seed + 1, scale: 1 });
  // Each user has `seen` distinct items (a stride walk from a seeded start: cheap and distinct).
  const u = rb.uniformGenerator(args.seed + 2);
  const pairUsers = new Int32Array(users * args.seen);
  const pairItems = new Int32Array(users * args.seen);
  for (let s = 0; s < users; s++) {
    const start = Math.floor(u() * rows);
    const stride = 1 + Math.floor(u() * Math.max(1, Math.floor(rows / args.seen) - 1));
    for (let j = 0; j < args.seen; j++) {
      pairUsers[s * args.seen + j] = s;
      pairItems[s * args.seen + j] = (start + j * stride) % rows;
    }
  }
  const seen = new rb.Interactions({ users: pairUsers, items: pairItems, numUsers: users, numItems: rows });
  const isa = rb.capabilities().isa;
  const ids = Array.from({ length: users }, (_, i) => String(i));

  const exact = rb.Recommender.fromModel({ items, users: userTable }, { seen });
  const truth = ids.slice(0, args.recallQueries).map((id) => new Set(exact.recommend(id, k).indices));
  const results = {};
  for (const kind of args.kinds) {
    for (const rerank of kind === 'f32' ? [0] : args.reranks) {
      const rec = kind === 'f32' ? exact : rb.Recommender.fromModel({ items, users: userTable }, { seen, quantize: kind, rerank });
      const r = measureSync((i) => rec.recommend(ids[i % users], k), args.budget);
      let recall = null;
      if (kind !== 'f32') {
        let hit = 0;
        truth.forEach((t, i) => {
          for (const x of rec.recommend(ids[i], k).indices) if (t.has(x)) hit++;
        });
        recall = hit / (truth.length * k);
      }
      results[`${kind}/${rerank}`] = r;
      const kernels = kind === 'f32' ? isa : rb.quantizedKernels().kernels;
      log(
        `${kind} rerank=${rerank}: p50 ${r.median.toFixed(1)} µs, p99 ${r.p99.toFixed(1)} µs${recall === null ? '' : `, recall@${k} ${recall.toFixed(4)}`}`,
      );
      const params = { rows, dim, k, quantize: kind, rerank, excluded: args.seen, threads: 1, isa, kernels, samples: r.n, users };
      const f32 = results['f32/0'];
      const base = kind !== 'f32' && f32 ? { baseline: 'f32', baselineValue: f32.median, ratio: f32.median / r.median } : {};
      emit({ name: 'serving-recommend/latency-median', value: r.median, unit: 'us', ...base, params });
      emit({ name: 'serving-recommend/latency-p99', value: r.p99, unit: 'us', params });
      if (recall !== null)
        emit({
          name: `serving-recommend/recall@${k}`,
          value: recall,
          unit: 'fraction',
          params: { ...params, recallQueries: truth.length },
        });
    }
  }
});
