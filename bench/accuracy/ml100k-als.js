'use strict';
// Implicit ALS on MovieLens-100K with RecBole's protocol, as bench/accuracy/ml100k-bpr.js: every
// rating is a positive (value 1; the ratings are not used as confidences); per-user random 80/10/10
// split; full ranking over all items with training (and, for test, validation) items masked; d = 64;
// early stopping on validation MRR@10 (patience 5). α and λ are chosen per split on validation
// MRR@10 from a grid (never on test). Compared with RecBole's published BPR (NDCG@10 0.2768).
// Reads ../shared/data (never copied); skips with a message when it is absent.
//
//   node bench/accuracy/ml100k-als.js [--seeds 2020,2021,2022] [--solver cg|cholesky]
const fs = require('node:fs');
const path = require('node:path');

const { loadRecbridge } = require('../lib/recbridge');

const DATA = path.resolve(__dirname, '../../../shared/data/ml-100k/ml-100k.inter');
const PUBLISHED_BPR = { recall: 0.2368, ndcg: 0.2768, mrr: 0.4519, hit: 0.7614, precision: 0.1901 };
const GRID = [];
for (const alpha of [1, 2, 5, 10, 20]) for (const l2 of [0.1, 1, 5, 20, 50]) GRID.push({ alpha, l2 });
const METRICS = ['recall', 'ndcg', 'mrr', 'hit', 'precision'];

function meanStd(xs) {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: m, std: sd };
}

function arg(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

async function main() {
  if (!fs.existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (the research data lives in ../shared/data beside the checkout)`);
    return;
  }
  const seeds = arg('--seeds', '2020,2021,2022').split(',').map(Number);
  const solver = arg('--solver', 'cg');
  const { rb } = loadRecbridge();
  const loaded = await rb.loadInteractions(DATA);
  const all = loaded.interactions;
  const binary = new rb.Interactions({ users: all.users, items: all.items, numUsers: all.numUsers, numItems: all.numItems });
  const runs = [];
  for (const seed of seeds) {
    const [train, valid, test] = rb.splitByUser(binary, [0.8, 0.1, 0.1], seed);
    const seen = rb.Interactions.concat([train, valid]);
    let best = null;
    const started = Date.now();
    for (const opt of GRID) {
      const model = new rb.MatrixFactorization({ users: loaded.users.size, items: loaded.items.size, dim: 64, seed });
      const report = await rb.AlsTrainer.fit(model, train, {
        iterations: 50,
        alpha: opt.alpha,
        l2: opt.l2,
        solver,
        threads: 1,
        validation: { data: valid, metric: 'mrr', k: 10, patience: 5, restoreBest: true },
      });
      if (!best || report.bestMetric > best.validMrr) best = { opt, validMrr: report.bestMetric, iteration: report.bestEpoch, model };
    }
    const metrics = await rb.evaluateRanking(best.model, test, { k: 10, exclude: seen });
    runs.push({ seed, chosen: best.opt, validMrr: best.validMrr, bestIteration: best.iteration, als: metrics });
    console.log(
      `seed ${seed}: alpha=${best.opt.alpha} l2=${best.opt.l2} (valid MRR@10 ${best.validMrr.toFixed(4)}, iteration ${best.iteration}; grid of ${GRID.length} in ${((Date.now() - started) / 1000).toFixed(1)} s) → ` +
        METRICS.map((m) => `${m}@10 ${metrics[m].toFixed(4)}`).join(', '),
    );
  }
  const summary = Object.fromEntries(METRICS.map((m) => [m, meanStd(runs.map((r) => r.als[m]))]));
  console.log(`\nmetric@10     recbridge ALS ${solver} (mean ± std)   RecBole BPR (published)`);
  for (const m of METRICS)
    console.log(
      `${m.padEnd(12)}  ${summary[m].mean.toFixed(4)} ± ${summary[m].std.toFixed(4)}              ${PUBLISHED_BPR[m].toFixed(4)}`,
    );
  const out = path.join(__dirname, '..', 'results', 'ml100k-als.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        dataset: 'ml-100k',
        protocol: 'RecBole: RS 8/1/1 by user, full ranking, masked; implicit ALS',
        solver,
        seeds,
        runs,
        summary,
        publishedBpr: PUBLISHED_BPR,
      },
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
