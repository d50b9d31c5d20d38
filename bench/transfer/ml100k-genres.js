#!/usr/bin/env node
// Cross-domain transfer on MovieLens-100K genre domains (see ../shared/data/README.md): source =
// items with an action-like genre, target = the rest; users are shared; 20% of the overlapping users
// are cold in the target. Every strategy against popularity and the target-only model, 3 seeds.
// Items of both domains carry content (genres, release decade and year as one bag over one
// vocabulary), which towers-shared-items shares; target users carry age, gender and occupation.
// Reads ../shared/data in place (never copied).
// Usage: node bench/transfer/ml100k-genres.js [--seeds N] [--strategies a,b] [--dim D] [--sampled N (negatives per test item)] [--auto]
// [--few-shot 0,1,3,5] (the few-shot curve: each count reruns every strategy)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const rb = require('../../dist');

const DATA = path.join(__dirname, '..', '..', '..', 'shared', 'data', 'ml-100k');
const SOURCE_GENRES = new Set(['Action', 'Adventure', 'Sci-Fi', 'Thriller', 'Crime', 'War', 'Western', 'Horror', 'Mystery', 'Film-Noir']);

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : process.argv[at + 1];
}

function lines(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}

function main() {
  if (!fs.existsSync(DATA)) {
    console.log(`skipped: ${DATA} is absent (see ../shared/data/README.md)`);
    return null;
  }
  const genres = new Map(lines(path.join(DATA, 'ml-100k.item')).map((f) => [f[0], (f[3] ?? '').split(' ')]));
  const domains = {
    source: { users: new rb.Vocabulary(), items: new rb.Vocabulary(), u: [], i: [] },
    target: { users: new rb.Vocabulary(), items: new rb.Vocabulary(), u: [], i: [] },
  };
  for (const [user, item] of lines(path.join(DATA, 'ml-100k.inter'))) {
    const d = (genres.get(item) ?? []).some((g) => SOURCE_GENRES.has(g)) ? domains.source : domains.target;
    d.u.push(d.users.add(user));
    d.i.push(d.items.add(item));
  }
  // Target user side features: age bucket, gender, occupation as one bag.
  const people = new Map(lines(path.join(DATA, 'ml-100k.user')).map((f) => [f[0], f]));
  const featureIds = new rb.Vocabulary();
  const offsets = [0];
  const indices = [];
  for (const id of domains.target.users.toArray()) {
    const f = people.get(id);
    if (f)
      indices.push(
        featureIds.add(`age:${Math.min(6, Math.floor(Number(f[1]) / 10))}`),
        featureIds.add(`gender:${f[2]}`),
        featureIds.add(`occupation:${f[3]}`),
      );
    offsets.push(indices.length);
  }
  // Item content for both domains over one vocabulary (so the towers read it alike): every genre,
  // the release decade and the release year.
  const movies = new Map(lines(path.join(DATA, 'ml-100k.item')).map((f) => [f[0], f]));
  const contentIds = new rb.Vocabulary();
  const itemContent = (items) => {
    const bagOffsets = [0];
    const bagIndices = [];
    for (const id of items.toArray()) {
      const f = movies.get(id);
      if (f) {
        for (const g of (f[3] ?? '').split(' ').filter(Boolean)) bagIndices.push(contentIds.add(`genre:${g}`));
        if (/^\d{4}$/.test(f[2] ?? '')) bagIndices.push(contentIds.add(`decade:${f[2].slice(0, 3)}`), contentIds.add(`year:${f[2]}`));
      }
      bagOffsets.push(bagIndices.length);
    }
    return { offsets: Int32Array.from(bagOffsets), indices: Int32Array.from(bagIndices) };
  };
  const sourceContent = itemContent(domains.source.items);
  const targetContent = itemContent(domains.target.items);
  const make = (name, d, content, userFeatures) =>
    new rb.Domain({
      name,
      interactions: new rb.Interactions({ users: d.u, items: d.i, numUsers: d.users.size, numItems: d.items.size }),
      users: d.users,
      items: d.items,
      userFeatures,
      itemFeatures: { bags: { vocabulary: contentIds.size, ...content } },
    });
  const source = make('ml-100k action-like', domains.source, sourceContent);
  const target = make('ml-100k other genres', domains.target, targetContent, {
    bags: { vocabulary: featureIds.size, offsets: Int32Array.from(offsets), indices: Int32Array.from(indices) },
  });
  return { source, target };
}

async function run() {
  const d = main();
  if (!d) return;
  const seeds = Number(arg('seeds', '3'));
  const strategies = arg('strategies', undefined)?.split(',');
  const auto = process.argv.includes('--auto');
  const dim = Number(arg('dim', '64'));
  const started = Date.now();
  const report = await rb.transfer(d.source, d.target, {
    seeds,
    strategies,
    // Both domains are genre slices of one data set, so user 17 is the same person in both; the
    // integer ids alone would not say so.
    align: { trustNumericIds: true },
    fewShot: arg('few-shot', undefined)?.split(',').map(Number),
    auto,
    settings: { dim },
    ...(arg('sampled', undefined) ? { sampled: { negatives: Number(arg('sampled', '999')) } } : {}),
    onProgress: (e) => process.stderr.write(`seed ${e.seed}: ${e.strategy} (${e.index + 1}/${e.total})\n`),
  });
  console.log(rb.formatLiftTable(report));
  console.log(`\nmarkdown:\n${rb.formatLiftTable(report, { markdown: true })}`);
  const out = path.join(__dirname, '..', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'transfer-ml100k-genres.json'), JSON.stringify(report, null, 1));
  console.log(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
