'use strict';
// Reproduces RecBole's published BPR result on MovieLens-100K with its protocol (see
// ../shared/data/README.md): every rating is a positive; per-user random 80/10/10 split; full
// ranking over all items with training (and, for test, validation) items masked inside the top-K
// kernel; d = 64; early stopping on validation MRR@10 with patience 10. The optimizer setting is
// chosen per split on validation MRR@10 from a small grid (never on test). A popularity baseline runs
// on the same splits. Reads ../shared/data (never copied); skips with a message when it is absent.
//
//   node bench/accuracy/ml100k-bpr.js [--seeds 2020,2021,2022]
const fs = require('node:fs');
const path = require('node:path');

const { loadRecbridge } = require('../lib/recbridge');

const DATA = path.resolve(__dirname, '../../../shared/data/ml-100k/ml-100k.inter');
const PUBLISHED = { recall: 0.2368, ndcg: 0.2768, mrr: 0.4519, hit: 0.7614, precision: 0.1901 };
const GRID = [
  { type: 'adagrad', lr: 0.05, l2: 0 },
  { type: 'adagrad', lr: 0.05, l2: 0.01 },
  { type: 'adam', lr: 0.005, l2: 0.01 },
  { type: 'sgd', lr: 0.05, l2: 0.01 },
];
// "The best model recbridge can train on the same split": more model choices, still selected per
// split on validation MRR@10 only.
const BEST_GRID = [
  { loss: 'bpr', dim: 64, optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 } },
  { loss: 'bpr', dim: 128, optimizer: { type: 'adagrad', lr: 0.05, l2: 0.02 } },
  { loss: 'bce', negatives: 4, dim: 64, optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 } },
  { loss: 'bce', negatives: 8, dim: 128, optimizer: { type: 'adagrad', lr: 0.05, l2: 0.02 } },
  { loss: 'warp', dim: 64, optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 } },
];
const METRICS = ['recall', 'ndcg', 'mrr', 'hit', 'precision'];

function meanStd(xs) {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: m, std: sd };
}

async function main() {
  if (!fs.existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (the research data lives in ../shared/data beside the checkout)`);
    return;
  }
  const seedsArg = process.argv.indexOf('--seeds');
  const seeds = seedsArg > 0 ? process.argv[seedsArg + 1].split(',').map(Number) : [2020, 2021, 2022];
  const { rb } = loadRecbridge();
  const loaded = await rb.loadInteractions(DATA);
  const runs = [];
  for (const seed of seeds) {
    const [train, valid, test] = rb.splitByUser(loaded.interactions, [0.8, 0.1, 0.1], seed);
    const seen = rb.Interactions.concat([train, valid]);
    let best = null;
    for (const opt of GRID) {
      const model = new rb.MatrixFactorization({ users: loaded.users.size, items: loaded.items.size, dim: 64, seed });
      const report = await rb.Trainer.fit(model, train, {
        loss: 'bpr',
        optimizer: { type: opt.type, lr: opt.lr, l2: opt.l2 },
        epochs: 500,
        threads: 1,
        seed,
        validation: { data: valid, metric: 'mrr', k: 10, patience: 10, restoreBest: true },
      });
      if (!best || report.bestMetric > best.validMrr) best = { opt, validMrr: report.bestMetric, epoch: report.bestEpoch, model };
    }
    const metrics = await rb.evaluateRanking(best.model, test, { k: 10, exclude: seen });
    // Popularity: every user gets the most frequent training items (a 1-dimensional ranking model).
    const counts = train.itemCounts();
    const popularity = {
      users: loaded.users.size,
      items: loaded.items.size,
      encodeItems: () => new rb.EmbeddingTable(Float32Array.from(counts), 1),
      userQuery: () => Float32Array.of(1),
    };
    const pop = await rb.evaluateRanking(popularity, test, { k: 10, exclude: seen });
    let tuned = null;
    for (const c of BEST_GRID) {
      const model = new rb.MatrixFactorization({ users: loaded.users.size, items: loaded.items.size, dim: c.dim, seed });
      const report = await rb.Trainer.fit(model, train, {
        loss: c.loss,
        negatives: c.negatives,
        optimizer: c.optimizer,
        epochs: 500,
        threads: 1,
        seed,
        validation: { data: valid, metric: 'mrr', k: 10, patience: 10, restoreBest: true },
      });
      if (!tuned || report.bestMetric > tuned.validMrr) tuned = { config: c, validMrr: report.bestMetric, model };
    }
    const tunedMetrics = await rb.evaluateRanking(tuned.model, test, { k: 10, exclude: seen });
    console.log(
      `         best by validation: ${JSON.stringify(tuned.config)} → ndcg@10 ${tunedMetrics.ndcg.toFixed(4)}, recall@10 ${tunedMetrics.recall.toFixed(4)}`,
    );
    runs.push({
      seed,
      chosen: best.opt,
      validMrr: best.validMrr,
      bestEpoch: best.epoch,
      bpr: metrics,
      popularity: pop,
      tuned: { config: tuned.config, validMrr: tuned.validMrr, metrics: tunedMetrics },
    });
    console.log(
      `seed ${seed}: ${best.opt.type} lr=${best.opt.lr} l2=${best.opt.l2} (valid MRR@10 ${best.validMrr.toFixed(4)}, epoch ${best.epoch}) → ` +
        METRICS.map((m) => `${m}@10 ${metrics[m].toFixed(4)}`).join(', '),
    );
  }
  const summary = {};
  for (const model of ['bpr', 'popularity'])
    summary[model] = Object.fromEntries(METRICS.map((m) => [m, meanStd(runs.map((r) => r[model][m]))]));
  summary.tuned = Object.fromEntries(METRICS.map((m) => [m, meanStd(runs.map((r) => r.tuned.metrics[m]))]));
  console.log('\nmetric@10     recbridge BPR (mean ± std)   RecBole BPR (published)   recbridge best (mean ± std)   popularity');
  for (const m of METRICS) {
    const b = summary.bpr[m];
    const t = summary.tuned[m];
    console.log(
      `${m.padEnd(12)}  ${b.mean.toFixed(4)} ± ${b.std.toFixed(4)}            ${PUBLISHED[m].toFixed(4)}                    ` +
        `${t.mean.toFixed(4)} ± ${t.std.toFixed(4)}               ${summary.popularity[m].mean.toFixed(4)}`,
    );
  }
  const out = path.join(__dirname, '..', 'results', 'ml100k-bpr.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      { dataset: 'ml-100k', protocol: 'RecBole BPR: RS 8/1/1 by user, full ranking, masked', seeds, runs, summary, published: PUBLISHED },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
