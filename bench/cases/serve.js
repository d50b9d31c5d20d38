'use strict';
// `recbridge serve` under load: a model of `items` × `dim` (int8 table, rerank on) with `seen` items
// excluded per user, served by the CLI in a child process and driven by autocannon (closed loop,
// `connections` keep-alive connections) with a mix of POST /recommend bodies for known users. Reports
// requests/s and the p50/p99 latency that the client saw (autocannon's own histogram rounds to whole
// milliseconds, so every response time is recorded here too), and, measured in this process in the
// same run, Recommender.recommend on the same model and mix: the service's overhead is the
// difference in latency, and its throughput is compared with what one in-process thread can do.
//
// args: { items, users, dim, k, seen, quantize, connections, warmupSec, durationSec,
//         configs: [{ workers?, processes? }],
//         excludeShare, excludeCount, inProcessQueries, seed }
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const autocannon = require('autocannon');

const { loadRecbridge, ROOT } = require('../lib/recbridge');
const { emit, log, runCase } = require('../lib/child');
const { summarize, percentileOfSorted } = require('../lib/stats');

/**
 * CPU time (user + system, every thread) used by a process and its child processes (the service
 * processes of --processes), in µs, from /proc (Linux); NaN elsewhere.
 */
function cpuMicros(root) {
  try {
    const stats = new Map();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
        stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // the process ended meanwhile
      }
    }
    let ticks = 0;
    const pending = [root];
    while (pending.length) {
      const pid = pending.pop();
      ticks += stats.get(pid)?.ticks ?? 0;
      for (const [child, s] of stats) if (s.ppid === pid) pending.push(child);
    }
    return (ticks * 1e6) / 100; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

/** A small seeded generator (xorshift32): the same requests in every run. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

async function buildFiles(rb, dir, a) {
  const model = new rb.MatrixFactorization({ users: a.users, items: a.items, dim: a.dim, seed: a.seed, initScale: 0.5 });
  const users = new rb.Vocabulary(Array.from({ length: a.users }, (_, i) => `u${i}`));
  const items = new rb.Vocabulary(Array.from({ length: a.items }, (_, i) => `i${i}`));
  const modelFile = path.join(dir, 'model.safetensors');
  await rb.saveModel(modelFile, model, { vocabularies: { users, items } });
  const random = rng(a.seed + 1);
  const seenFile = path.join(dir, 'seen.tsv');
  const out = fs.openSync(seenFile, 'w');
  for (let u = 0; u < a.users; u++) {
    let text = '';
    for (let j = 0; j < a.seen; j++) text += `u${u}\ti${Math.floor(random() * a.items)}\n`;
    fs.writeSync(out, text);
  }
  fs.closeSync(out);
  return { modelFile, seenFile };
}

/** The request mix: known users, k = args.k, and a share of requests with an exclude list. */
function requestMix(a, count) {
  const random = rng(a.seed + 2);
  const bodies = [];
  for (let n = 0; n < count; n++) {
    const body = { user: `u${Math.floor(random() * a.users)}`, k: a.k };
    if (random() < a.excludeShare) body.exclude = Array.from({ length: a.excludeCount }, () => `i${Math.floor(random() * a.items)}`);
    bodies.push(body);
  }
  return bodies;
}

function startServer(files, a, config) {
  const cli = path.join(ROOT, 'bin', 'recbridge.js');
  const argv = [cli, 'serve', '--model', files.modelFile, '--seen', files.seenFile, '--quantize', a.quantize, '--port', '0', '--quiet'];
  if (config.workers) argv.push('--workers', String(config.workers));
  if (config.processes) argv.push('--processes', String(config.processes));
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8');
    const onData = (chunk) => {
      text += chunk;
      const m = /^listening on (\S+)\n/.exec(text);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, url: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => reject(new Error(`recbridge serve exited with ${code} before listening`)));
  });
}

async function waitReady(url) {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return r.json();
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not become ready in 60 s');
}

function load(url, bodies, a, seconds) {
  let next = 0;
  const times = [];
  const instance = autocannon({
    url,
    connections: a.connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/recommend',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(bodies[next++ % bodies.length]) }),
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, ms) => times.push(ms));
  return new Promise((resolve, reject) => {
    instance.on('done', (result) => resolve({ result, times }));
    instance.on('error', reject);
  });
}

runCase(async (a) => {
  const { rb } = loadRecbridge();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-bench-serve-'));
  try {
    log(`building ${a.items} × ${a.dim} model, ${a.users} users with ${a.seen} seen items each`);
    const files = await buildFiles(rb, dir, a);
    const bodies = requestMix(a, 20_000);

    // In-process: the same model, seen items and mix, one thread.
    const loaded = await rb.loadModel(files.modelFile, { forServing: true });
    const seen = await rb.loadInteractions(files.seenFile, {
      users: new rb.Vocabulary(loaded.vocabularies.users.toArray()).freeze(),
      items: new rb.Vocabulary(loaded.vocabularies.items.toArray()).freeze(),
    });
    const rec = await rb.Recommender.create(loaded, { quantize: a.quantize, seen: seen.interactions });
    for (let i = 0; i < 2000; i++) {
      const b = bodies[i % bodies.length];
      rec.recommend(b.user, b.k, { exclude: b.exclude });
    }
    const samples = [];
    for (let i = 0; i < a.inProcessQueries; i++) {
      const b = bodies[i % bodies.length];
      const t0 = process.hrtime.bigint();
      rec.recommend(b.user, b.k, { exclude: b.exclude });
      samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
    const inProcess = summarize(samples);
    log(`in-process Recommender.recommend: p50 ${inProcess.median.toFixed(1)} µs, p99 ${inProcess.p99.toFixed(1)} µs`);
    const baseParams = { rows: a.items, dim: a.dim, k: a.k, users: a.users, seen: a.seen, quantize: a.quantize };
    emit({ name: 'serve/in-process-recommend-p50', value: inProcess.median, unit: 'µs', params: baseParams });

    for (const config of a.configs) {
      const label = config.processes ? `processes=${config.processes}` : `workers=${config.workers ?? 0}`;
      const { child, url } = await startServer(files, a, config);
      try {
        await waitReady(url);
        await load(url, bodies, a, a.warmupSec);
        const server0 = cpuMicros(child.pid);
        const client0 = process.cpuUsage();
        const { result, times } = await load(url, bodies, a, a.durationSec);
        const client = process.cpuUsage(client0);
        const serverCpu = (cpuMicros(child.pid) - server0) / result.requests.total;
        const clientCpu = (client.user + client.system) / result.requests.total;
        const asc = Float64Array.from(times).sort();
        const p50 = percentileOfSorted(asc, 50);
        const p99 = percentileOfSorted(asc, 99);
        const rps = result.requests.total / (result.duration || a.durationSec);
        const failed = result.errors + result.timeouts + result.non2xx;
        const params = {
          ...baseParams,
          workers: config.workers ?? 0,
          processes: config.processes ?? 1,
          connections: a.connections,
          seconds: result.duration,
          requests: result.requests.total,
          failed,
        };
        log(
          `${label}: ${rps.toFixed(0)} req/s, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, ${failed} failed; ` +
            `in-process p50 ${(inProcess.median / 1000).toFixed(3)} ms → overhead ${(p50 - inProcess.median / 1000).toFixed(2)} ms at p50; ` +
            `CPU per request: server ${serverCpu.toFixed(0)} µs (in-process recommend ${inProcess.mean.toFixed(0)} µs), autocannon ${clientCpu.toFixed(0)} µs`,
        );
        emit({
          name: 'serve/throughput',
          value: rps,
          unit: 'req/s',
          baseline: 'in-process recommend, one thread',
          baselineValue: 1e6 / inProcess.mean,
          ratio: rps / (1e6 / inProcess.mean),
          params,
        });
        emit({
          name: 'serve/latency-p50',
          value: p50,
          unit: 'ms',
          baseline: 'in-process recommend p50',
          baselineValue: inProcess.median / 1000,
          params,
        });
        emit({
          name: 'serve/latency-p99',
          value: p99,
          unit: 'ms',
          baseline: 'in-process recommend p99',
          baselineValue: inProcess.p99 / 1000,
          params,
        });
        if (failed > 0) throw new Error(`${failed} requests failed under load`);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
