'use strict';
// Cross-domain item-item neighbours for cold target users, on real data (../shared/data, never
// copied): MovieLens-100K genre domains and the Amazon DisenCDR pairs sport→cloth and
// phone→electronic. Protocol (../shared/data/README.md): with a seed, 20% of the overlapping users
// become cold in the target (half validation, half test); their target training rows are removed,
// their source rows stay. CrossDomainItemKnn is built from the remaining overlapping users; its
// setting (similarity × shrink) is chosen on the validation cold users' NDCG@10, then the test cold
// users' target rows are ranked against every target item (full ranking, nothing masked: they have
// no target training rows). A popularity baseline (target training counts) runs on the same users.
//
//   node bench/accuracy/knn-cross-domain.js [--seeds 1,2,3] [--out bench/results/knn-cross-domain.json]
const fs = require('node:fs');
const path = require('node:path');

const { loadRecbridge } = require('../lib/recbridge');

const DATA = path.resolve(__dirname, '../../../shared/data');
const SOURCE_GENRES = new Set(['Action', 'Adventure', 'Sci-Fi', 'Thriller', 'Crime', 'War', 'Western', 'Horror', 'Mystery', 'Film-Noir']);
const GRID = [];
for (const similarity of ['cosine', 'tfidf', 'bm25']) for (const shrink of [0, 10]) GRID.push({ similarity, shrink, neighbours: 100 });
const METRICS = ['recall', 'ndcg', 'hit', 'mrr', 'precision'];

function lines(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** { source, target, targetTest } as arrays of [user, item] with dense per-domain indices; users shared. */
function ml100k() {
  const dir = path.join(DATA, 'ml-100k');
  const isSource = new Map();
  for (const l of lines(path.join(dir, 'ml-100k.item')).slice(1)) {
    const f = l.split('\t');
    isSource.set(
      f[0],
      (f[3] ?? '').split(' ').some((g) => SOURCE_GENRES.has(g)),
    );
  }
  const src = new Map();
  const tgt = new Map();
  const users = new Map();
  const source = [];
  const target = [];
  for (const l of lines(path.join(dir, 'ml-100k.inter')).slice(1)) {
    const [u, i] = l.split('\t');
    if (!users.has(u)) users.set(u, users.size);
    const map = isSource.get(i) ? src : tgt;
    if (!map.has(i)) map.set(i, map.size);
    (isSource.get(i) ? source : target).push([users.get(u), map.get(i)]);
  }
  return {
    name: 'ml-100k genres (action-like → other)',
    users: users.size,
    sourceItems: src.size,
    targetItems: tgt.size,
    source,
    target,
    targetTest: null,
  };
}

function amazon(sourceDir, targetDir, name) {
  const read = (file) => lines(file).map((l) => l.split('\t').slice(0, 2).map(Number));
  const source = read(path.join(DATA, 'amazon-cdr-disencdr', sourceDir, 'train.txt'));
  const target = read(path.join(DATA, 'amazon-cdr-disencdr', targetDir, 'train.txt'));
  const targetTest = read(path.join(DATA, 'amazon-cdr-disencdr', targetDir, 'test.txt'));
  const maxOf = (rows, c) => rows.reduce((m, r) => Math.max(m, r[c]), -1) + 1;
  return {
    name,
    users: Math.max(maxOf(source, 0), maxOf(target, 0), maxOf(targetTest, 0)),
    sourceItems: maxOf(source, 1),
    targetItems: Math.max(maxOf(target, 1), maxOf(targetTest, 1)),
    source,
    target,
    targetTest,
  };
}

function shuffle(a, rand) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function meanStd(xs) {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: m, std: sd };
}

async function runSeed(rb, d, seed) {
  const inter = (rows, items) =>
    new rb.Interactions({ users: rows.map((r) => r[0]), items: rows.map((r) => r[1]), numUsers: d.users, numItems: items });
  const hasSource = new Uint8Array(d.users);
  const hasTarget = new Uint8Array(d.users);
  for (const [u] of d.source) hasSource[u] = 1;
  for (const [u] of d.target) hasTarget[u] = 1;
  const overlap = [];
  for (let u = 0; u < d.users; u++) if (hasSource[u] && hasTarget[u]) overlap.push(u);
  const order = shuffle(overlap.slice(), rb.uniformGenerator(seed));
  const nCold = Math.round(order.length * 0.2);
  const validUsers = order.slice(0, nCold >> 1).sort((a, b) => a - b);
  const testUsers = order.slice(nCold >> 1, nCold).sort((a, b) => a - b);
  const cold = new Uint8Array(d.users);
  for (const u of order.slice(0, nCold)) cold[u] = 1;

  const source = inter(d.source, d.sourceItems);
  const targetTrain = inter(
    d.target.filter((r) => !cold[r[0]]),
    d.targetItems,
  );
  // Validation truth: the validation cold users' (removed) target rows. Test truth: the test cold
  // users' target test rows when the data has a test file (Amazon), else their removed rows (ML).
  const validTruth = inter(
    d.target.filter((r) => cold[r[0]] && validUsers.includes(r[0])),
    d.targetItems,
  );
  const testSet = new Set(testUsers);
  const testTruth = inter(
    (d.targetTest ?? d.target).filter((r) => testSet.has(r[0])),
    d.targetItems,
  );
  const pairs = overlap.filter((u) => !cold[u]);
  const userPairs = { source: Int32Array.from(pairs), target: Int32Array.from(pairs) };

  let best = null;
  for (const cfg of GRID) {
    const t0 = process.hrtime.bigint();
    const model = await rb.CrossDomainItemKnn.fit({ source, target: targetTrain, userPairs, ...cfg });
    const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const v = await rb.evaluateItemKnn(model, validTruth, { k: 10, history: source, users: validUsers });
    if (!best || v.ndcg > best.valid.ndcg) best = { cfg, model, valid: v, buildMs };
  }
  const test = await rb.evaluateItemKnn(best.model, testTruth, { k: 10, history: source, users: testUsers });
  const counts = targetTrain.itemCounts();
  const popularity = {
    users: d.users,
    items: d.targetItems,
    encodeItems: () => new rb.EmbeddingTable(Float32Array.from(counts), 1),
    userQuery: () => Float32Array.of(1),
  };
  const pop = await rb.evaluateRanking(popularity, testTruth, { k: 10, users: testUsers });
  return {
    seed,
    chosen: best.cfg,
    buildMs: best.buildMs,
    validNdcg: best.valid.ndcg,
    knn: test,
    popularity: pop,
    coldTest: testUsers.length,
    pairs: pairs.length,
  };
}

// Within one catalogue, on RecBole's ML-100K protocol (the BPR reproduction's splits: per-user
// random 80/10/10, seeds 2020-2022, training (+ validation at test) items masked): ItemKnn with its
// setting chosen on validation MRR@10, as the BPR grid is.
async function withinMl100k(rb) {
  const file = path.join(DATA, 'ml-100k', 'ml-100k.inter');
  const loaded = await rb.loadInteractions(file);
  const runs = [];
  for (const seed of [2020, 2021, 2022]) {
    const [train, valid, test] = rb.splitByUser(loaded.interactions, [0.8, 0.1, 0.1], seed);
    const seen = rb.Interactions.concat([train, valid]);
    let best = null;
    for (const cfg of GRID) {
      const model = await rb.ItemKnn.fit(train, cfg);
      const v = await rb.evaluateItemKnn(model, valid, { k: 10, exclude: train });
      if (!best || v.mrr > best.valid.mrr) best = { cfg, valid: v };
    }
    // At test time the history is everything the user has shown: training and validation items.
    const model = await rb.ItemKnn.fit(seen, best.cfg);
    const t = await rb.evaluateItemKnn(model, test, { k: 10, exclude: seen });
    console.error(`ml-100k within seed ${seed}: ${JSON.stringify(best.cfg)} test NDCG@10 ${t.ndcg.toFixed(4)} MRR@10 ${t.mrr.toFixed(4)}`);
    runs.push({ seed, chosen: best.cfg, test: t });
  }
  const summary = { dataset: 'ml-100k (RecBole protocol, within domain)', chosen: runs.map((r) => r.chosen), knn: {} };
  for (const m of METRICS) summary.knn[m] = meanStd(runs.map((r) => r.test[m]));
  return summary;
}

async function main() {
  if (!fs.existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (the research data lives in ../shared/data beside the checkout)`);
    return;
  }
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const seeds = arg('--seeds', '1,2,3').split(',').map(Number);
  const out = arg('--out', path.join(__dirname, '..', 'results', 'knn-cross-domain.json'));
  const { rb } = loadRecbridge();
  const datasets = [
    ml100k(),
    amazon('sport_cloth', 'cloth_sport', 'amazon sport → cloth'),
    amazon('phone_electronic', 'electronic_phone', 'amazon phone → electronic'),
  ];
  const report = [];
  for (const d of datasets) {
    const runs = [];
    for (const seed of seeds) {
      const r = await runSeed(rb, d, seed);
      runs.push(r);
      console.error(
        `${d.name} seed ${seed}: ${JSON.stringify(r.chosen)} (valid NDCG@10 ${r.validNdcg.toFixed(4)}, build ${r.buildMs.toFixed(0)} ms) test NDCG@10 ${r.knn.ndcg.toFixed(4)} vs popularity ${r.popularity.ndcg.toFixed(4)}`,
      );
    }
    const summary = {
      dataset: d.name,
      users: d.users,
      sourceItems: d.sourceItems,
      targetItems: d.targetItems,
      coldTestUsers: runs.map((r) => r.coldTest),
      overlapPairs: runs.map((r) => r.pairs),
      chosen: runs.map((r) => r.chosen),
      knn: {},
      popularity: {},
    };
    for (const m of METRICS) {
      summary.knn[m] = meanStd(runs.map((r) => r.knn[m]));
      summary.popularity[m] = meanStd(runs.map((r) => r.popularity[m]));
    }
    summary.knn.emptyLists = runs.map((r) => r.knn.emptyLists);
    report.push(summary);
  }
  const within = await withinMl100k(rb);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        seeds,
        protocol: 'cold target users (20% of overlap, half validation / half test), full ranking @10',
        results: report,
        within,
      },
      null,
      2,
    ),
  );
  const fmt = (s) => `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`;
  console.log('| data | model | Recall@10 | NDCG@10 | Hit@10 | MRR@10 | Precision@10 |');
  console.log('|---|---|---|---|---|---|---|');
  for (const s of report) {
    console.log(`| ${s.dataset} | CrossDomainItemKnn | ${METRICS.map((m) => fmt(s.knn[m])).join(' | ')} |`);
    console.log(`| ${s.dataset} | popularity | ${METRICS.map((m) => fmt(s.popularity[m])).join(' | ')} |`);
  }
  console.log(`| ${within.dataset} | ItemKnn | ${METRICS.map((m) => fmt(within.knn[m])).join(' | ')} |`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err.stack ?? err);
  process.exit(1);
});
