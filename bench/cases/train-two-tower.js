'use strict';
// Two-tower training throughput: positive samples per second per epoch for in-batch sampled
// softmax (batch 1024, logQ correction), towers = id embedding (d=64) + 2 dense layers 64→64 with
// ReLU, Adam for dense layers and Adagrad for embeddings, threads 1 and 2.
//
// args: { users, items, interactions, dim, epochs, threads: number[], seed }
const { loadRecbridge } = require('../lib/recbridge');
const { powerLawInteractions } = require('../lib/train-data');
const { median } = require('../lib/stats');
const { emit, log, runCase } = require('../lib/child');

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { users, items, dim } = args;
  const data = powerLawInteractions(users, items, args.interactions, args.seed);
  const isa = rb.capabilities().isa;
  for (const threads of args.threads) {
    const model = new rb.TwoTower({ users, items, dim, user: { mlp: [dim, dim] }, item: { mlp: [dim, dim] }, seed: 1 });
    const report = await rb.Trainer.fit(model, data, {
      epochs: args.epochs,
      batchSize: 1024,
      threads,
      seed: args.seed,
      optimizer: { type: 'adam', lr: 0.01 },
    });
    // The first epoch warms caches and allocates optimizer state: report the median of the others.
    const value = median(report.epochs.slice(1).map((e) => e.samplesPerSecond));
    log(
      `two-tower softmax threads=${threads}: ${(value / 1e3).toFixed(0)}k samples/s (epochs: ${report.epochs.map((e) => (e.samplesPerSecond / 1e3).toFixed(0)).join(', ')}k; loss ${report.epochs[report.epochs.length - 1].loss.toFixed(3)})`,
    );
    emit({
      name: 'train-two-tower/in-batch-softmax',
      value,
      unit: 'samples/s',
      params: { users, items, interactions: data.size, dim, threads, batch: 1024, isa, epochs: args.epochs },
    });
  }
});
