'use strict';
// Memory-bandwidth probe: recbridge.scoreItems over a table far larger than the caches reads every
// byte once per call, so its rate is the achieved DRAM read bandwidth of this machine and run. The
// orchestrator divides topk-single's GB/s by it (same rows, dim and threads) to show how close
// top-k gets to a plain scan.
//
// args: { rows, dim, threads: number[], seed, budget }
const { loadRecbridge } = require('../lib/recbridge');
const { makeTable, makeQueries, queryAt } = require('../lib/data');
const { measureSync } = require('../lib/measure');
const { emit, log, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { rows, dim } = args;
  const isa = rb.capabilities().isa;
  const table = makeTable(rows, dim, args.seed);
  const pool = makeQueries(64, dim, args.seed + 1);
  const out = new Float32Array(rows);
  const bytes = rows * dim * 4;
  for (const threads of args.threads) {
    const r = measureSync((i) => rb.scoreItems(table, queryAt(pool, dim, i), { out, threads }), args.budget);
    const gbps = bytes / (r.median * 1e3);
    log(`scoreItems threads=${threads}: ${gbps.toFixed(1)} GB/s (median ${(r.median / 1e3).toFixed(2)} ms over ${r.n} scans)`);
    emit({
      name: 'scan-bandwidth/score-items',
      value: gbps,
      unit: 'GB/s',
      params: { rows, dim, threads, isa, samples: r.n, tableMiB: bytes / 2 ** 20 },
    });
  }
});
