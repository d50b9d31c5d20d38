'use strict';
// RecommenderPool throughput under a closed-loop load (each of `clientsPerWorker × workers` clients
// sends its next request when the previous one is answered) with 1, 2 and 4 workers, and the resident
// memory each worker adds (process RSS with the pool minus RSS before it, per worker: the tables are
// shared, so this is the per-thread cost of V8 isolates and the addon, not of the model).
//
// args: { rows, dim, k, users, quantize, workers: number[], clientsPerWorker, durationMs, seed }
const { loadRecbridge } = require('../lib/recbridge');
const { emit, log, collectGarbage, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { rows, dim, k, users } = args;
  const items = rb.EmbeddingTable.create(rows, dim, { init: 'normal', seed: args.seed });
  const userTable = rb.EmbeddingTable.create(users, dim, { init: 'normal', seed: args.seed + 1, scale: 1 });
  const rec = rb.Recommender.fromModel({ items, users: userTable }, { quantize: args.quantize });
  const tableBytes = items.data.byteLength + (rec.quantization === 'f32' ? 0 : rows * dim * (rec.quantization === 'bf16' ? 2 : 1));
  for (const n of args.workers) {
    collectGarbage();
    const before = process.memoryUsage().rss;
    const pool = await rb.RecommenderPool.create(rec, { workers: n, dispatch: 'least-busy' });
    const clients = args.clientsPerWorker * n;
    let next = 0;
    const run = async (until) => {
      let done = 0;
      const client = async () => {
        while (process.hrtime.bigint() < until) {
          await pool.recommend(String(next++ % users), k);
          done++;
        }
      };
      await Promise.all(Array.from({ length: clients }, client));
      return done;
    };
    await run(process.hrtime.bigint() + 300_000_000n); // warm-up
    const start = process.hrtime.bigint();
    const done = await run(start + BigInt(args.durationMs) * 1_000_000n);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const rss = process.memoryUsage().rss;
    await pool.close();
    const perWorkerMiB = (rss - before) / n / 2 ** 20;
    const params = {
      rows,
      dim,
      k,
      workers: n,
      clients,
      quantize: rec.quantization,
      dispatch: 'least-busy',
      seconds,
      requests: done,
      tableMiB: tableBytes / 2 ** 20,
    };
    log(
      `workers=${n}: ${(done / seconds).toFixed(0)} req/s, RSS +${perWorkerMiB.toFixed(1)} MiB per worker (tables ${params.tableMiB.toFixed(0)} MiB)`,
    );
    emit({ name: 'serving-pool/throughput', value: done / seconds, unit: 'req/s', params });
    emit({ name: 'serving-pool/rss-per-worker', value: perWorkerMiB, unit: 'MiB', params });
  }
});
