#!/usr/bin/env node
// Cross-domain transfer on the Amazon DisenCDR pairs (../shared/data/amazon-cdr-disencdr, read in
// place, never copied): source = X's training rows, target = Y's training and test rows; users
// share ids. 20% of the users become cold in the target (all their target rows held out: half for
// validation, half for test); warm users' target rows are split 70/15/15 per user. Every strategy
// against popularity, the target-only model and the neighbourhood baseline, full ranking and the
// 1+999 sampled protocol, 3 seeds.
//   node bench/transfer/amazon-pairs.js [--pairs sport_cloth:cloth_sport,…] [--both] [--seeds N] [--strategies a,b] [--auto] [--dim D]
// Default: all four pairs (sport→cloth, phone→electronic, sport→phone, electronic→cloth).
//   [--few-shot 0,1,3,5] (the few-shot curve: each count reruns every strategy)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const rb = require('../../dist');

const DATA = path.join(__dirname, '..', '..', '..', 'shared', 'data', 'amazon-cdr-disencdr');

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : process.argv[at + 1];
}

function domain(name, files, users) {
  const items = new rb.Vocabulary();
  const u = [];
  const i = [];
  const seen = new Set();
  for (const file of files) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const [user, item] = line.split('\t');
      const key = `${user}\t${item}`;
      if (seen.has(key)) continue; // test.txt repeats nothing from train, but be safe
      seen.add(key);
      u.push(users.add(user));
      i.push(items.add(item));
    }
  }
  return { name, u, i, items };
}

async function run() {
  if (!fs.existsSync(DATA)) {
    console.log(`skipped: ${DATA} is absent (see ../shared/data/README.md)`);
    return;
  }
  // Every pair of the folder, one direction each (--both adds the reverse directions).
  const all = 'sport_cloth:cloth_sport,phone_electronic:electronic_phone,sport_phone:phone_sport,electronic_cloth:cloth_electronic';
  let pairs = arg('pairs', all)
    .split(',')
    .map((p) => p.split(':'));
  if (process.argv.includes('--both'))
    pairs = pairs.flatMap(([a, b]) => [
      [a, b],
      [b, a],
    ]);
  const seeds = Number(arg('seeds', '3'));
  const strategies = arg('strategies', undefined)?.split(',');
  const auto = process.argv.includes('--auto');
  const dim = Number(arg('dim', '64'));
  const out = path.join(__dirname, '..', 'results');
  fs.mkdirSync(out, { recursive: true });
  for (const [sourceDir, targetDir] of pairs) {
    const started = Date.now();
    const sourceUsers = new rb.Vocabulary();
    const targetUsers = new rb.Vocabulary();
    const s = domain(sourceDir.split('_')[0], [path.join(DATA, sourceDir, 'train.txt')], sourceUsers);
    const t = domain(
      targetDir.split('_')[0],
      [path.join(DATA, targetDir, 'train.txt'), path.join(DATA, targetDir, 'test.txt')],
      targetUsers,
    );
    const make = (d, users) =>
      new rb.Domain({
        name: `amazon ${d.name}`,
        interactions: new rb.Interactions({ users: d.u, items: d.i, numUsers: users.size, numItems: d.items.size }),
        users,
        items: d.items,
      });
    const report = await rb.transfer(make(s, sourceUsers), make(t, targetUsers), {
      seeds,
      strategies,
      auto,
      ratios: [0.7, 0.15, 0.15],
      // DisenCDR numbers users 0..n-1 in both domains of a pair and states that the same integer is
      // the same person, which the library cannot tell from the ids alone.
      align: { trustNumericIds: true },
      fewShot: arg('few-shot', undefined)?.split(',').map(Number),
      sampled: { negatives: 999 },
      settings: { dim },
      onProgress: (e) => process.stderr.write(`${sourceDir}→${targetDir} seed ${e.seed}: ${e.strategy} (${e.index + 1}/${e.total})\n`),
    });
    console.log(`\n## ${sourceDir} → ${targetDir}\n`);
    console.log(rb.formatLiftTable(report, { markdown: true }));
    console.log(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
    fs.writeFileSync(path.join(out, `transfer-${sourceDir}.json`), JSON.stringify(report, null, 1));
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
