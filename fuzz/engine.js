// A time-budgeted mutation fuzzer for recbridge's TypeScript parsers (run against the compiled
// dist/). It is not coverage-guided like libFuzzer: its feedback is the *outcome* of each input (the
// error code plus the message with numbers and quoted names stripped, or "ok"), and an input that
// produces an outcome not seen before joins the corpus. Parsers report every rejection with its own
// message, so new messages approximate new validation paths well.
//
// A finding is any error a target does not declare as expected (a TypeError from inside the parser,
// an out-of-memory, a failed post-condition on a successful parse), or a hang: a worker thread
// watches a progress counter in shared memory and, if one input runs longer than the hang limit,
// saves it and kills the process (a synchronous infinite loop cannot be interrupted otherwise).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const MAX_WATCHED_BYTES = 1 << 20;

/** xorshift32: fast and seedable, enough to pick mutations reproducibly. */
function rng(seed) {
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x6a09e667) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (arr) => arr[Math.floor(next() * arr.length)] };
}

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x7b, 0x7d, 0x22, 0x2c, 0x3a, 0x20, 0x09, 0x0a, 0x0d, 0x30, 0x39, 0x2d, 0x2e, 0x5c];
// Float32 edges too: values are stored as float32, where a finite double such as 1e39 overflows.
const INTERESTING_NUMBERS = [
  '0',
  '-1',
  '1',
  '2',
  '63',
  '64',
  '65',
  '-0',
  '1e309',
  '-1e309',
  '1.5',
  '4294967296',
  '2147483648',
  '9007199254740993',
  '1e-320',
  'NaN',
  'Infinity',
  'null',
  'true',
  '""',
  '[]',
  '{}',
  '99999999999',
  '3.4028234e38',
  '3.4028236e38',
  '-1e39',
  '1e-46',
  '16777217',
];
const INTERESTING_INTS = [0, 1, 2, 7, 8, 63, 64, 0x7f, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, -1];

function mutateOnce(buf, r, corpus, dictionary) {
  const n = buf.length;
  switch (r.int(11)) {
    case 0: {
      // flip one bit
      if (!n) return Buffer.from([r.int(256)]);
      const out = Buffer.from(buf);
      out[r.int(n)] ^= 1 << r.int(8);
      return out;
    }
    case 1: {
      // an interesting byte
      if (!n) return Buffer.from([r.pick(INTERESTING_BYTES)]);
      const out = Buffer.from(buf);
      out[r.int(n)] = r.pick(INTERESTING_BYTES);
      return out;
    }
    case 2: {
      // an interesting little-endian 32- or 64-bit integer
      if (n < 8) return Buffer.concat([buf, Buffer.alloc(8 - n)]);
      const out = Buffer.from(buf);
      const at = r.next() < 0.3 ? 0 : r.int(n - 7);
      const v = r.pick([...INTERESTING_INTS, n, n - 8, n + 1]);
      if (r.next() < 0.5) out.writeBigInt64LE(BigInt(v), at);
      else out.writeInt32LE(v | 0, at);
      return out;
    }
    case 3: {
      // delete a range
      if (!n) return buf;
      const a = r.int(n);
      const len = 1 + r.int(Math.min(n - a, r.next() < 0.8 ? 8 : n));
      return Buffer.concat([buf.subarray(0, a), buf.subarray(a + len)]);
    }
    case 4: {
      // duplicate a range in place
      if (!n) return buf;
      const a = r.int(n);
      const len = 1 + r.int(Math.min(n - a, 64));
      const at = r.int(n + 1);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(a, a + len), buf.subarray(at)]);
    }
    case 5: // truncate
      return buf.subarray(0, r.int(n + 1));
    case 6: {
      // splice the tail of another corpus entry
      const other = r.pick(corpus);
      const a = r.int(n + 1);
      const b = r.int(other.length + 1);
      return Buffer.concat([buf.subarray(0, a), other.subarray(b)]);
    }
    case 7: {
      // replace a run of digits with an interesting number
      const text = buf.toString('latin1');
      const runs = [...text.matchAll(/-?\d+(\.\d+)?(e[-+]?\d+)?/g)];
      if (!runs.length) return buf;
      const m = r.pick(runs);
      return Buffer.concat([
        buf.subarray(0, m.index),
        Buffer.from(r.pick(INTERESTING_NUMBERS), 'latin1'),
        buf.subarray(m.index + m[0].length),
      ]);
    }
    case 8: {
      // insert a dictionary token
      const at = r.int(n + 1);
      return Buffer.concat([buf.subarray(0, at), Buffer.from(r.pick(dictionary), 'utf8'), buf.subarray(at)]);
    }
    case 9: {
      // replace a quoted string or a field with a dictionary token
      const text = buf.toString('latin1');
      const runs = [...text.matchAll(/"[^"\n]{0,64}"|[^\t,\n :]+/g)];
      if (!runs.length) return buf;
      const m = r.pick(runs);
      const token = r.pick(dictionary);
      const rep = m[0].startsWith('"') ? JSON.stringify(token) : token;
      return Buffer.concat([buf.subarray(0, m.index), Buffer.from(rep, 'utf8'), buf.subarray(m.index + m[0].length)]);
    }
    default: {
      // random bytes
      const at = r.int(n + 1);
      const add = Buffer.alloc(1 + r.int(8));
      for (let i = 0; i < add.length; i++) add[i] = r.int(256);
      return Buffer.concat([buf.subarray(0, at), add, buf.subarray(at)]);
    }
  }
}

/** Strips what varies between inputs but not between code paths: numbers, quoted names, paths. */
function outcomeOf(err) {
  if (!err) return 'ok';
  const msg = String(err.message || err)
    .replace(/[\r\n\u2028\u2029]/g, ' ')
    // Feature names are unquoted and may hold anything but the separator (spaces, quotes, ': '),
    // so cut from "field " to the first ': ' that starts one of the loaders' reasons.
    .replace(/\bfield .*?: (?="(?:[^"\\]|\\.)*" is |\d+ values, expected|empty |no line )/g, 'field X: ')
    // So are metadata keys: `__metadata__.<key> is not a string`, `recbridge.vocabularies.<side> is …`.
    .replace(/(__metadata__|recbridge\.vocabularies)\..*? (?=is )/g, '$1.K ')
    .replace(/"(?:[^"\\]|\\.)*"/g, 'S')
    .replace(/\(.*\)/g, '(…)')
    .replace(/\/\S+/g, 'P')
    .replace(/\b(field|column|id|time|value) [^ :]+/g, '$1 X')
    .replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/gi, 'N');
  return `${err.code || err.name}: ${msg.slice(0, 160)}`;
}

function startWatchdog(shared, hangSeconds, findingsDir, name) {
  const code = `
    const { workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const { shared, hangSeconds, findingsDir, name } = workerData;
    const ctl = new Int32Array(shared, 0, 2);
    const bytes = new Uint8Array(shared, 8);
    let last = -1, since = Date.now();
    setInterval(() => {
      const seq = Atomics.load(ctl, 0);
      if (seq !== last) { last = seq; since = Date.now(); return; }
      if (Atomics.load(ctl, 1) < 0 || Date.now() - since < hangSeconds * 1000) return;
      fs.mkdirSync(findingsDir, { recursive: true });
      const file = findingsDir + '/' + name + '-hang-' + Date.now() + '.bin';
      fs.writeFileSync(file, bytes.slice(0, Atomics.load(ctl, 1)));
      fs.writeSync(2, 'HANG: one input ran over ' + hangSeconds + ' s; saved to ' + file + '\\n');
      process.kill(process.pid, 'SIGKILL');
    }, 250);
  `;
  const w = new Worker(code, { eval: true, workerData: { shared, hangSeconds, findingsDir, name } });
  w.unref();
  return w;
}

/**
 * target: { name, seeds: Buffer[], dictionary?: string[], fixup?(buf, r): Buffer, variant?(buf): string,
 *           execute(buf): Promise<void>, expected(err): boolean }
 * options: { seconds, maxInputs, seed, hangSeconds, findingsDir }
 */
async function fuzz(target, options) {
  const { seconds = 60, maxInputs = Infinity, seed = Date.now() % 1e9, hangSeconds = 10 } = options;
  const findingsDir = options.findingsDir || path.join(__dirname, 'findings');
  const r = rng(seed);
  const shared = new SharedArrayBuffer(8 + MAX_WATCHED_BYTES);
  const ctl = new Int32Array(shared, 0, 2);
  const watched = new Uint8Array(shared, 8);
  startWatchdog(shared, hangSeconds, findingsDir, target.name);
  let finished = false;
  // An async hang (a promise that never settles) empties the event loop instead of spinning.
  process.on('beforeExit', () => {
    if (!finished) {
      process.stderr.write(`HANG: ${target.name}: a promise never settled (input ${ctl[0]})\n`);
      process.exitCode = 3;
    }
  });

  const corpus = target.seeds.map((b) => Buffer.from(b));
  const outcomes = new Map();
  const dictionary = target.dictionary || ['0'];
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let execs = 0;
  let crashes = 0;
  let slowest = 0;

  const runOne = async (input) => {
    const len = Math.min(input.length, MAX_WATCHED_BYTES);
    watched.set(input.subarray(0, len));
    Atomics.store(ctl, 1, len);
    Atomics.add(ctl, 0, 1);
    const t0 = process.hrtime.bigint();
    let err = null;
    try {
      await target.execute(input);
    } catch (e) {
      err = e;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > slowest) slowest = ms;
    execs++;
    if (err && !target.expected(err)) {
      crashes++;
      fs.mkdirSync(findingsDir, { recursive: true });
      const file = path.join(findingsDir, `${target.name}-crash-${Date.now()}.bin`);
      fs.writeFileSync(file, input);
      process.stderr.write(`CRASH in ${target.name}: ${err?.stack}\n  input saved to ${file}\n`);
      return false;
    }
    const key = (target.variant ? `${target.variant(input)} ` : '') + outcomeOf(err);
    if (!outcomes.has(key)) {
      outcomes.set(key, 0);
      if (corpus.length < 4000) corpus.push(input);
    }
    outcomes.set(key, outcomes.get(key) + 1);
    return true;
  };

  for (const s of corpus.slice()) if (!(await runOne(s))) break;
  while (crashes === 0 && execs < maxInputs && process.hrtime.bigint() < deadline) {
    let input = r.pick(corpus);
    const stack = 1 + r.int(r.next() < 0.7 ? 2 : 6);
    for (let i = 0; i < stack; i++) input = mutateOnce(input, r, corpus, dictionary);
    if (target.fixup && r.next() < 0.5) input = target.fixup(input, r);
    if (!(await runOne(input))) break;
  }
  finished = true;
  // FUZZ_DUMP_OUTCOMES=1 lists what the inputs led to (to judge the feedback signal).
  if (process.env.FUZZ_DUMP_OUTCOMES) for (const [k, v] of outcomes) process.stderr.write(`${v}\t${k}\n`);
  Atomics.store(ctl, 1, -1);
  const secondsTaken = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    target: target.name,
    inputs: execs,
    crashes,
    hangs: 0,
    seconds: Math.round(secondsTaken * 10) / 10,
    execsPerSecond: Math.round(execs / secondsTaken),
    slowestMs: Math.round(slowest * 10) / 10,
    outcomes: outcomes.size,
    corpus: corpus.length,
    seed,
  };
}

module.exports = { fuzz, rng, mutateOnce, outcomeOf };
