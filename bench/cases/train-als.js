'use strict';
// Implicit ALS training time: seconds per full iteration (a user half and an item half, 3 CG steps
// per row, d=64, no training-loss pass), threads 1 and 2, on the training benchmarks' power-law
// data. Peer: the same algorithm in NumPy/SciPy (bench/lib/als_peer.py, a per-row loop vectorised
// over each row's entries) run on the same interactions, when python3 with numpy and scipy is
// found (RECBRIDGE_BENCH_PYTHON, then /tmp/venv-als/bin/python3, then python3); otherwise skipped
// with the reason. The peer runs `peerIterations` iterations (it is slow).
//
// args: { users, items, interactions, dim, iterations, threads: number[], seed, alpha, l2, cgSteps, peerIterations }
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { loadRecbridge } = require('../lib/recbridge');
const { powerLawInteractions } = require('../lib/train-data');
const { median } = require('../lib/stats');
const { emit, log, runCase } = require('../lib/child');

function findPython() {
  const candidates = [process.env.RECBRIDGE_BENCH_PYTHON, '/tmp/venv-als/bin/python3', 'python3'].filter(Boolean);
  const reasons = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import numpy, scipy'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py };
    reasons.push(`${py}: ${r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop()}`);
  }
  return { error: `no python3 with numpy and scipy (${reasons.join('; ')})` };
}

function runPeer(args, data) {
  const found = findPython();
  if (found.error) return found;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-als-peer-'));
  try {
    fs.writeFileSync(path.join(dir, 'users.i32'), Buffer.from(data.users.slice().buffer));
    fs.writeFileSync(path.join(dir, 'items.i32'), Buffer.from(data.items.slice().buffer));
    const script = path.join(__dirname, '..', 'lib', 'als_peer.py');
    const argv = [script, dir, args.users, args.items, args.dim, args.peerIterations, args.alpha, args.l2, args.cgSteps].map(String);
    const r = spawnSync(found.python, argv, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
    if (r.status !== 0) return { error: `peer failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { users, items, dim } = args;
  const data = powerLawInteractions(users, items, args.interactions, args.seed);
  const isa = rb.capabilities().isa;
  const peer = runPeer(args, data);
  const peerSeconds = peer.error ? null : median(peer.seconds);
  log(peer.error ? `NumPy/SciPy peer skipped: ${peer.error}` : `NumPy/SciPy CG-ALS (1 thread): ${peerSeconds.toFixed(2)} s per iteration`);
  for (const threads of args.threads) {
    const model = new rb.MatrixFactorization({ users, items, dim, seed: 1 });
    const report = await rb.AlsTrainer.fit(model, data, {
      iterations: args.iterations,
      alpha: args.alpha,
      l2: args.l2,
      cgSteps: args.cgSteps,
      threads,
      trainingLoss: false,
    });
    // The first iteration also groups the interactions both ways: report the median of the others.
    const value = median(report.epochs.slice(1).map((e) => e.seconds));
    log(
      `ALS cg${args.cgSteps} threads=${threads}: ${value.toFixed(3)} s per iteration (${report.epochs.map((e) => e.seconds.toFixed(3)).join(', ')})`,
    );
    const params = { users, items, interactions: data.size, dim, threads, isa, cgSteps: args.cgSteps, iterations: args.iterations };
    const record = { name: 'train-als/seconds-per-iteration', value, unit: 's', params };
    if (peerSeconds !== null)
      Object.assign(record, { baseline: 'numpy-scipy-cg-als (1 thread)', baselineValue: peerSeconds, ratio: peerSeconds / value });
    else record.params.baselineSkipped = peer.error;
    emit(record);
  }
});
