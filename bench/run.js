#!/usr/bin/env node
'use strict';
// Benchmark orchestrator: runs every case in a fresh Node process (so JIT state, heap and native
// thread pools never leak between cases), collects the JSON records each child prints, adds records
// derived across cases, writes bench/results/latest.json and prints a table.
//
//   node bench/run.js [--quick] [--filter <substring>] [--list] [--out <file>]
const { spawn } = require('node:child_process');
const path = require('node:path');

const { loadRecbridge } = require('./lib/recbridge');
const { machineInfo } = require('./lib/machine');
const { RECORD_PREFIX } = require('./lib/child');
const { bandwidthFractions } = require('./lib/derived');
const { writeResults, formatTable } = require('./lib/report');

const SIZES = {
  full: {
    singleRows: [100_000, 1_000_000],
    batch: { queries: 1024, rows: 100_000 },
    budget: { warmupIters: 20, warmupMs: 500, minIters: 200, minMs: 1000, maxMs: 2000 },
    jsBudget: { warmupIters: 2, warmupMs: 1000, minIters: 10, minMs: 1000, maxMs: 3000 },
    batchBudget: { warmupIters: 1, minIters: 7, minMs: 1000, maxMs: 10_000, maxIters: 30 },
    ortBatchBudget: { warmupIters: 1, minIters: 5, minMs: 1000, maxMs: 15_000, maxIters: 15 },
    scanBudget: { warmupIters: 3, minIters: 30, minMs: 1000, maxMs: 2000 },
    train: { users: 100_000, items: 50_000, interactions: 5_000_000, epochs: 4, baselineSamples: 1_000_000 },
    twoTower: { users: 100_000, items: 50_000, interactions: 1_000_000, epochs: 4 },
    als: { iterations: 4 },
    timeoutMs: 20 * 60_000,
  },
  quick: {
    singleRows: [10_000, 100_000],
    batch: { queries: 1024, rows: 20_000 },
    budget: { warmupIters: 10, warmupMs: 200, minIters: 100, minMs: 300, maxMs: 600 },
    jsBudget: { warmupIters: 2, warmupMs: 200, minIters: 5, minMs: 200, maxMs: 600 },
    batchBudget: { warmupIters: 1, minIters: 3, minMs: 200, maxMs: 2000, maxIters: 10 },
    ortBatchBudget: { warmupIters: 1, minIters: 3, minMs: 200, maxMs: 3000, maxIters: 5 },
    scanBudget: { warmupIters: 2, minIters: 10, minMs: 300, maxMs: 800 },
    train: { users: 10_000, items: 5_000, interactions: 500_000, epochs: 3, baselineSamples: 200_000 },
    twoTower: { users: 10_000, items: 5_000, interactions: 100_000, epochs: 3 },
    als: { iterations: 3 },
    timeoutMs: 3 * 60_000,
  },
};

const K = 10;
const THREADS = [1, 2];
const SEED = 20240611;

function count(n) {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** Every case of a mode: { name, script, args }. One child process runs one case. */
function plan(mode) {
  const s = SIZES[mode];
  const cases = [];
  for (const dim of [64, 128]) {
    for (const rows of s.singleRows) {
      cases.push({
        name: `topk-single n=${count(rows)} d=${dim}`,
        script: 'topk-single.js',
        args: { rows, dim, k: K, threads: THREADS, seed: SEED, queries: 1024, budget: s.budget, jsBudget: s.jsBudget, ortBudget: s.budget },
      });
    }
  }
  const { queries, rows } = s.batch;
  cases.push({
    name: `topk-batch q=${count(queries)} n=${count(rows)} d=64`,
    script: 'topk-batch.js',
    args: { queries, rows, dim: 64, k: K, threads: THREADS, seed: SEED, budget: s.batchBudget, ortBudget: s.ortBatchBudget },
  });
  cases.push({
    name: 'kernel-native (C++, no Node)',
    script: 'kernel-native.js',
    args: {
      configs: mode === 'quick' ? [{ rows: 100_000, dim: 64 }] : s.singleRows.flatMap((rows) => [64, 128].map((dim) => ({ rows, dim }))),
      threads: THREADS,
    },
  });
  cases.push({
    name: `train-mf bpr n=${count(s.train.interactions)} d=64`,
    script: 'train-mf.js',
    args: { ...s.train, dim: 64, threads: THREADS, optimizers: ['sgd', 'adagrad', 'adam'], seed: SEED },
  });
  cases.push({
    name: `train-als cg3 n=${count(s.train.interactions)} d=64`,
    script: 'train-als.js',
    args: {
      ...s.train,
      dim: 64,
      iterations: s.als.iterations,
      threads: THREADS,
      seed: SEED,
      alpha: 10,
      l2: 0.05,
      cgSteps: 3,
      peerIterations: 1,
    },
  });
  cases.push({
    name: `train-two-tower softmax n=${count(s.twoTower.interactions)} d=64`,
    script: 'train-two-tower.js',
    args: { ...s.twoTower, dim: 64, threads: THREADS, seed: SEED },
  });
  cases.push({
    name: 'item-knn build + recommend',
    script: 'item-knn.js',
    args: {
      configs:
        mode === 'quick'
          ? [{ label: 'ml100k-sized', users: 943, items: 1682, interactions: 100_000 }]
          : [
              { label: 'ml100k-sized', users: 943, items: 1682, interactions: 100_000 },
              { label: '100k-items-1M', users: 50_000, items: 100_000, interactions: 1_000_000 },
            ],
      neighbours: 100,
      history: 50,
      k: K,
      threads: THREADS,
      seed: SEED,
      queries: 1024,
      batchQueries: 1024,
      buildBudget:
        mode === 'quick'
          ? { warmupIters: 1, minIters: 2, minMs: 200, maxMs: 2000, maxIters: 5 }
          : { warmupIters: 1, minIters: 3, minMs: 1000, maxMs: 10_000, maxIters: 10 },
      jsBuildBudget: { warmupIters: 0, minIters: 1, minMs: 0, maxMs: 1, maxIters: mode === 'quick' ? 1 : 2 },
      budget: s.budget,
      jsBudget: s.jsBudget,
    },
  });
  cases.push({
    name: `model-io n=${count(mode === 'quick' ? 100_000 : 1_000_000)} d=64`,
    script: 'model-io.js',
    args: { rows: mode === 'quick' ? 100_000 : 1_000_000, dim: 64, seed: SEED, repeats: mode === 'quick' ? 3 : 5 },
  });
  // Full size in both modes: a table that fits in cache would not measure DRAM bandwidth.
  cases.push({
    name: 'scan-bandwidth n=1M d=64',
    script: 'scan-bandwidth.js',
    args: { rows: 1_000_000, dim: 64, threads: THREADS, seed: SEED, budget: s.scanBudget },
  });
  // Serving (issue 7): Recommender.recommend on f32/bf16/int8 tables, and the worker pool.
  for (const rows of mode === 'quick' ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]) {
    cases.push({
      name: `serving-recommend n=${count(rows)} d=64`,
      script: 'serving-recommend.js',
      args: {
        rows,
        dim: 64,
        k: K,
        users: 1000,
        seen: 100,
        kinds: ['f32', 'bf16', 'int8'],
        reranks: [0, 30],
        seed: SEED,
        recallQueries: 200,
        budget: s.budget,
      },
    });
  }
  cases.push({
    name: `serving-pool n=${count(mode === 'quick' ? 100_000 : 1_000_000)} d=64`,
    script: 'serving-pool.js',
    args: {
      rows: mode === 'quick' ? 100_000 : 1_000_000,
      dim: 64,
      k: K,
      users: 1000,
      quantize: 'int8',
      workers: [1, 2, 4],
      clientsPerWorker: 2,
      durationMs: mode === 'quick' ? 1000 : 3000,
      seed: SEED,
    },
  });
  // The HTTP service (issue 17): `recbridge serve` under autocannon, against Recommender.recommend in-process.
  cases.push({
    name: 'serve n=100k d=64 int8',
    script: 'serve.js',
    args: {
      items: 100_000,
      users: mode === 'quick' ? 2000 : 10_000,
      dim: 64,
      k: K,
      seen: 100,
      quantize: 'int8',
      connections: 8,
      warmupSec: mode === 'quick' ? 1 : 3,
      durationSec: mode === 'quick' ? 3 : 10,
      configs: [{ workers: 0 }, { workers: 2 }, { processes: 2 }],
      excludeShare: 0.2,
      excludeCount: 5,
      inProcessQueries: 20_000,
      seed: SEED,
    },
  });
  return cases;
}

function parseArgs(argv) {
  const opts = { mode: 'full', filter: null, list: false, out: path.join(__dirname, 'results', 'latest.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.mode = 'quick';
    else if (a === '--list') opts.list = true;
    else if (a === '--filter' || a === '--out') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--filter=')) opts.filter = a.slice('--filter='.length);
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  return opts;
}

function usage(problem) {
  const text = 'usage: node bench/run.js [--quick] [--filter <substring of a case name>] [--list] [--out <file>]';
  if (problem) {
    process.stderr.write(`bench: ${problem}\n${text}\n`);
    process.exit(2);
  }
  process.stdout.write(`${text}\n`);
  process.exit(0);
}

/** Runs one case in a fresh process; resolves with its records (rejects on failure or timeout). */
function runChild(c, timeoutMs) {
  return new Promise((resolve, reject) => {
    // --expose-gc lets a case free a large table or ORT session before timing the next phase.
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'cases', c.script), JSON.stringify(c.args)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const records = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      pending += text;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith(RECORD_PREFIX)) records.push(JSON.parse(line.slice(RECORD_PREFIX.length)));
        else if (line.trim() !== '') process.stderr.write(`  [${c.name}] ${line}\n`);
      }
    });
    const timer = setTimeout(() => {
      process.stderr.write(`  [${c.name}] timed out after ${timeoutMs / 1000} s; stopping it\n`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(records);
      else reject(new Error(signal ? `killed by ${signal}` : `exited with code ${code}`));
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const all = plan(opts.mode);
  const cases = opts.filter ? all.filter((c) => c.name.includes(opts.filter)) : all;
  if (opts.list) {
    for (const c of all) process.stdout.write(`${cases.includes(c) ? '*' : ' '} ${c.name}\n`);
    return;
  }
  if (cases.length === 0) usage(`no case matches --filter ${JSON.stringify(opts.filter)} (see --list)`);

  loadRecbridge(); // exits with a build hint if dist/ or the addon is missing
  const machine = machineInfo();
  process.stderr.write(
    `recbridge bench (${opts.mode}): ${machine.cpu}, ${machine.cores} cores, isa ${machine.isa}, node ${machine.node}\n` +
      'Results are only comparable on an otherwise idle machine.\n',
  );
  if (machine.loadAverage1m > 0.5) {
    process.stderr.write(`warning: load average is ${machine.loadAverage1m}; something else is running and will skew the results.\n`);
  }

  const records = [];
  const failures = [];
  const started = process.hrtime.bigint();
  for (const [i, c] of cases.entries()) {
    process.stderr.write(`[${i + 1}/${cases.length}] ${c.name}\n`);
    const t0 = process.hrtime.bigint();
    try {
      records.push(...(await runChild(c, SIZES[opts.mode].timeoutMs)));
    } catch (err) {
      failures.push({ case: c.name, error: err.message });
      process.stderr.write(`  FAILED: ${err.message}\n`);
    }
    process.stderr.write(`  (${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s)\n`);
  }
  records.push(...bandwidthFractions(records));

  const results = { machine, mode: opts.mode, filter: opts.filter, records, failures };
  writeResults(opts.out, results);
  process.stdout.write(`\n${formatTable(records)}\n\n`);
  process.stdout.write('ratio = speedup of recbridge over the baseline measured in the same process (>1: recbridge faster).\n');
  process.stdout.write(
    `Wrote ${path.relative(process.cwd(), opts.out)} (${records.length} records) in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s.\n`,
  );
  if (failures.length) {
    process.stderr.write(`${failures.length} case(s) failed: ${failures.map((f) => f.case).join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  process.exit(1);
});
