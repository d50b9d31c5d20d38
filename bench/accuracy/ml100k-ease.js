'use strict';
// EASE on MovieLens-100K with RecBole's protocol (the same as ml100k-bpr.js; see
// ../shared/data/README.md): every rating is a positive; per-user random 80/10/10 split; full
// ranking over all items with training (and, for test, validation) items masked. λ is chosen per
// split on validation MRR@10 from a small grid (never on test); the model is fitted on the training
// rows only. Printed next to RecBole's published BPR (the accuracy anchor) and popularity. Reads
// ../shared/data (never copied); skips with a message when it is absent.
//
//   node bench/accuracy/ml100k-ease.js [--seeds 2020,2021,2022] [--lambdas 100,200,400,800,1600] [--threads 2]
const fs = require('node:fs');
const path = require('node:path');

const { loadRecbridge } = require('../lib/recbridge');

const DATA = path.resolve(__dirname, '../../../shared/data/ml-100k/ml-100k.inter');
const PUBLISHED_BPR = { recall: 0.2368, ndcg: 0.2768, mrr: 0.4519, hit: 0.7614, precision: 0.1901 };
const METRICS = ['recall', 'ndcg', 'mrr', 'hit', 'precision'];

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : process.argv[at + 1];
}

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
  const seeds = arg('seeds', '2020,2021,2022').split(',').map(Number);
  const lambdas = arg('lambdas', '100,200,400,800,1600').split(',').map(Number);
  const threads = Number(arg('threads', '2'));
  const { rb } = loadRecbridge();
  const loaded = await rb.loadInteractions(DATA);
  const runs = [];
  for (const seed of seeds) {
    const [train, valid, test] = rb.splitByUser(loaded.interactions, [0.8, 0.1, 0.1], seed);
    const seen = rb.Interactions.concat([train, valid]);
    let best = null;
    const started = Date.now();
    for (const lambda of lambdas) {
      const model = await rb.Ease.fit(train, { lambda, threads });
      const v = await rb.evaluateRanking(model, valid, { k: 10, exclude: train, threads });
      if (!best || v.mrr > best.validMrr) best = { lambda, validMrr: v.mrr, model };
    }
    const seconds = (Date.now() - started) / 1000;
    const metrics = await rb.evaluateRanking(best.model, test, { k: 10, exclude: seen, threads });
    const counts = train.itemCounts();
    const popularity = {
      users: loaded.users.size,
      items: loaded.items.size,
      encodeItems: () => new rb.EmbeddingTable(Float32Array.from(counts), 1),
      userQuery: () => Float32Array.of(1),
    };
    const pop = await rb.evaluateRanking(popularity, test, { k: 10, exclude: seen });
    runs.push({ seed, lambda: best.lambda, validMrr: best.validMrr, gridSeconds: seconds, ease: metrics, popularity: pop });
    console.log(
      `seed ${seed}: λ=${best.lambda} (valid MRR@10 ${best.validMrr.toFixed(4)}; ${lambdas.length} fits + validations in ${seconds.toFixed(1)} s) → ` +
        METRICS.map((m) => `${m}@10 ${metrics[m].toFixed(4)}`).join(', '),
    );
  }
  const summary = {};
  for (const model of ['ease', 'popularity'])
    summary[model] = Object.fromEntries(METRICS.map((m) => [m, meanStd(runs.map((r) => r[model][m]))]));
  console.log('\nmetric@10     recbridge EASE (mean ± std)   RecBole BPR (published)   popularity');
  for (const m of METRICS) {
    const e = summary.ease[m];
    console.log(
      `${m.padEnd(12)}  ${e.mean.toFixed(4)} ± ${e.std.toFixed(4)}             ${PUBLISHED_BPR[m].toFixed(4)}                    ${summary.popularity[m].mean.toFixed(4)}`,
    );
  }
  const out = path.join(__dirname, '..', 'results', 'ml100k-ease.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        dataset: 'ml-100k',
        protocol: 'RecBole: RS 8/1/1 by user, full ranking, masked; EASE λ by valid MRR@10',
        seeds,
        lambdas,
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
