'use strict';
// The C++ kernel benchmark (bench/native/kernel_bench.cpp), built with plain cmake against the pure
// kernel library: the memory-read ceiling of this machine (a streaming sum over the same bytes)
// next to score_rows and exact top-10 on every ISA path, with no Node call in the timings. Its
// read probe is what topk-single's bandwidth is compared with (see lib/derived.js).
//
// args: { configs: [{ rows, dim }], threads: number[] }
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const { emit, log, runCase } = require('../lib/child');

const root = path.resolve(__dirname, '../..');
const buildDir = path.join(root, 'build', 'bench');

function build() {
  const quiet = { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] };
  execFileSync('cmake', ['-S', root, '-B', buildDir, '-DRB_BUILD_BENCH=ON', '-DCMAKE_BUILD_TYPE=Release'], quiet);
  execFileSync('cmake', ['--build', buildDir, '--target', 'kernel_bench', '-j', '2'], quiet);
  return path.join(buildDir, 'kernel_bench');
}

const NAMES = {
  'memory read (streaming sum)': 'kernel/memory-read',
  score_rows: 'kernel/score-rows',
  'topk_one k=10': 'kernel/topk-latency',
  'topk_one k=10 bandwidth': 'kernel/topk-bandwidth',
  'topk_one k=10 vs memory read': 'kernel/topk-vs-memory-read',
};

runCase(async (args) => {
  let bin;
  try {
    bin = build();
  } catch (err) {
    throw new Error(`could not build bench/native/kernel_bench with cmake (needs cmake and a C++17 compiler): ${err.message}`);
  }
  for (const { rows, dim } of args.configs) {
    for (const threads of args.threads) {
      const out = execFileSync(bin, [String(rows), String(dim), String(threads)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      for (const line of out.split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line);
        // The read probe and score_rows are single-threaded: record them once per config.
        if (threads !== args.threads[0] && (r.name === 'score_rows' || r.name.startsWith('memory read'))) continue;
        // `path` (the kernel ISA, or the probe's) tells the rows of one config apart in the table.
        emit({ name: NAMES[r.name] ?? `kernel/${r.name}`, value: r.value, unit: r.unit, params: { ...r.params, path: r.params.isa } });
      }
      log(`kernel_bench rows=${rows} dim=${dim} threads=${threads} done`);
    }
  }
});
