'use strict';
// Matrix-factorization training throughput: positive samples per second per epoch for BPR with
// SGD, Adagrad and lazy Adam (native Hogwild epochs), threads 1 and 2, against a plain JavaScript
// BPR+SGD loop measured in the same process on the same data. SGD also runs without rejecting
// known positives as negatives, like the PyTorch and C baselines (the library default
// rejects them, drawing BPR's negatives in the epoch shuffle where each user's list is in cache).
//
// args: { users, items, interactions, dim, epochs, threads: number[], optimizers: string[], seed, baselineSamples }
const { loadRecbridge } = require('../lib/recbridge');
const { powerLawInteractions } = require('../lib/train-data');
const { bprSgdPlainJs } = require('../lib/bpr-js');
const { median } = require('../lib/stats');
const { emit, log, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { users, items, dim } = args;
  const data = powerLawInteractions(users, items, args.interactions, args.seed);
  const isa = rb.capabilities().isa;
  const baseline = median([1, 2, 3].map((r) => bprSgdPlainJs(data, dim, args.baselineSamples, 0.05, args.seed + r)));
  log(`plain JS BPR+SGD: ${(baseline / 1e6).toFixed(3)} M samples/s`);
  const variants = [
    ...args.optimizers.map((optimizer) => ({ optimizer, rejectPositives: true })),
    { optimizer: 'sgd', rejectPositives: false },
  ];
  for (const { optimizer, rejectPositives } of variants) {
    for (const threads of args.threads) {
      const model = new rb.MatrixFactorization({ users, items, dim, seed: 1 });
      const report = await rb.Trainer.fit(model, data, {
        loss: 'bpr',
        optimizer: { type: optimizer },
        epochs: args.epochs,
        threads,
        seed: args.seed,
        rejectPositives,
      });
      // The first epoch warms caches and page tables: report the median of the others.
      const rates = report.epochs.slice(1).map((e) => e.samplesPerSecond);
      const value = median(rates);
      const label = `${optimizer}${rejectPositives ? '' : '-no-rejection'}`;
      log(
        `BPR+${label} threads=${threads}: ${(value / 1e6).toFixed(2)} M samples/s (epochs: ${report.epochs.map((e) => (e.samplesPerSecond / 1e6).toFixed(2)).join(', ')}; loss ${report.epochs[report.epochs.length - 1].loss.toFixed(3)})`,
      );
      const params = { users, items, interactions: data.size, dim, threads, optimizer: label, rejectPositives, isa, epochs: args.epochs };
      const record = { name: `train-mf/bpr-${label}`, value, unit: 'samples/s', params };
      if (optimizer === 'sgd') Object.assign(record, { baseline: 'plain-js-bpr-sgd', baselineValue: baseline, ratio: value / baseline });
      emit(record);
    }
  }
});
