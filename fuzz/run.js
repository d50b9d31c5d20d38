#!/usr/bin/env node
// Runs fuzz targets for a time budget each and prints one JSON line per target.
//   node fuzz/run.js [--seconds 60] [--inputs N] [--seed S] [--record file.jsonl] [target ...]
// Targets: model-file, interactions, features (default: all). Needs dist/ (npm run build).
// Exit status 1 when any target found a crash or a hang.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { fuzz } = require('./engine');

const TARGETS = {
  'model-file': () => require('./targets/model-file')(),
  interactions: () => require('./targets/interactions')(),
  features: () => require('./targets/features')(),
};

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(name);
    if (i < 0) return def;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const seconds = Number(opt('--seconds', '60'));
  const maxInputs = Number(opt('--inputs', 'Infinity'));
  const seed = Number(opt('--seed', String(Date.now() % 1e9)));
  const record = opt('--record', null);
  const names = args.length ? args : Object.keys(TARGETS);
  let failed = false;
  for (const name of names) {
    if (!TARGETS[name]) throw new Error(`unknown target ${name}; known: ${Object.keys(TARGETS).join(', ')}`);
    const target = await TARGETS[name]();
    const result = await fuzz(target, { seconds, maxInputs, seed });
    const line = JSON.stringify({ ...result, node: process.version, date: new Date().toISOString() });
    console.log(line);
    if (record) fs.appendFileSync(path.resolve(record), `${line}\n`);
    if (result.crashes > 0) failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
