// `recbridge serve` as a real process: the bound address on the first line, SIGHUP reloads,
// SIGTERM lets in-flight requests finish with 200 and exits 0, and usage errors exit 2.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { type Files, files, get, post, until, writeModel } from './helpers';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'recbridge.js');
let f: Files;

beforeAll(async () => {
  if (!fs.existsSync(path.join(root, 'dist', 'commands', 'serve.js'))) throw new Error('dist/ is missing: run `npm run build`');
  f = await files();
});

afterAll(() => {
  fs.rmSync(f.dir, { recursive: true, force: true });
});

interface Server {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function serve(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c) => {
      out += c;
      const m = /^listening on (http:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  await until(async () => (await get(url, '/readyz')).status === 200, 20_000, 'readiness');
  return { child, url, stderr: () => err, exited };
}

/** A POST whose body is sent in two parts: the request is in flight between them. */
function slowRequest(url: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let response = '';
  socket.setEncoding('utf8').on('data', (c) => (response += c));
  const done = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(response));
    socket.on('close', () => resolve(response));
    socket.on('error', reject);
  });
  const half = body.length >> 1;
  const connected = new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  return {
    async start() {
      await connected;
      socket.write(
        `POST /recommend HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
      );
    },
    finish() {
      socket.write(body.slice(half));
      return done;
    },
  };
}

test.each([
  ['on the event loop', '0'],
  ['in worker threads', '2'],
])(
  'SIGTERM (%s): in-flight requests finish with 200, new connections are refused, exit 0',
  async (_name, workers) => {
    const s = await serve(['--model', f.model, '--seen', f.seen, '--quantize', 'int8', '--grace', '10000', '--workers', workers]);
    const slow = [slowRequest(s.url, JSON.stringify({ user: 'u0', k: 3 })), slowRequest(s.url, JSON.stringify({ history: ['i1'], k: 2 }))];
    for (const r of slow) await r.start();
    const burst = Array.from({ length: 20 }, (_, i) => post(s.url, '/recommend', { user: `u${i}` }));
    await new Promise((r) => setTimeout(r, 200)); // the server has read the headers: the requests are in flight
    s.child.kill('SIGTERM');
    await until(() => s.stderr().includes('closing'), 5000, 'the closing log line');
    await expect(get(s.url, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const answers = await Promise.all(slow.map((r) => r.finish()));
    for (const a of answers) {
      expect(a).toMatch(/^HTTP\/1\.1 200 /);
      expect(a.toLowerCase()).toContain('connection: close');
      expect(JSON.parse(a.slice(a.indexOf('\r\n\r\n') + 4)).items.length).toBeGreaterThan(0);
    }
    for (const r of await Promise.all(burst)) expect(r.status).toBe(200);
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(/"forced":false/);
  },
  60_000,
);

test('SIGTERM amid a burst: every answer is a whole 200, then exit 0', async () => {
  const s = await serve(['--model', f.model, '--workers', '2', '--quiet']);
  const burst = Array.from({ length: 100 }, (_, i) => post(s.url, '/recommend', { user: `u${i % 30}`, k: 20 }));
  await new Promise((r) => setTimeout(r, 5));
  s.child.kill('SIGTERM');
  const results = await Promise.allSettled(burst);
  // A request is either answered in full or never read: its connection opened after the listener
  // closed, or it was written to a keep-alive socket as the server closed it idle (the usual
  // keep-alive race, which clients meet at any server's idle timeout too). Nothing half-done.
  for (const r of results) {
    if (r.status === 'fulfilled') expect(r.value.status).toBe(200);
    else expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']).toContain(r.reason.code);
  }
  expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
  expect(await s.exited).toBe(0);
}, 60_000);

test('SIGHUP reloads a model replaced while watching is off', async () => {
  const model = path.join(f.dir, 'hup.safetensors');
  await writeModel(model, 1);
  const s = await serve(['--model', model, '--no-watch']);
  try {
    expect((await get(s.url, '/readyz')).json.version).toBe(1);
    await writeModel(model, 2);
    await new Promise((r) => setTimeout(r, 300));
    expect((await get(s.url, '/readyz')).json.version).toBe(1);
    s.child.kill('SIGHUP');
    await until(async () => (await get(s.url, '/readyz')).json.version === 2, 10_000, 'the reload');
    expect(s.stderr()).toContain('model reloaded');
  } finally {
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }
}, 60_000);

test('usage errors exit 2 naming the flag; a model that does not load exits 1', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'serve', ...args], { encoding: 'utf8' });
  const none = run();
  expect(none.status).toBe(2);
  expect(none.stderr).toContain('--model');
  const missing = run('--model', path.join(f.dir, 'nope.safetensors'));
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain('No such file for --model');
  const badPort = run('--model', f.model, '--port', '99999');
  expect(badPort.status).toBe(2);
  expect(badPort.stderr).toContain('--port');
  const corrupt = path.join(f.dir, 'corrupt.safetensors');
  fs.writeFileSync(corrupt, 'not a model');
  const bad = run('--model', corrupt, '--port', '0');
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain('ERR_CORRUPT_FILE');
});

test('--processes 2: one port, metrics summed over the processes, both reload, SIGTERM drains both', async () => {
  const model = path.join(f.dir, 'cluster.safetensors');
  await writeModel(model, 1);
  const s = await serve(['--model', model, '--processes', '2', '--poll-ms', '100']);
  const loaded = () => new Set([...s.stderr().matchAll(/"pid":(\d+)[^\n]*"msg":"model loaded"/g)].map((m) => m[1])).size;
  try {
    // Readiness is per process, and a process takes connections once it listens: wait for both.
    await until(() => loaded() === 2, 20_000, 'both processes to load the model');
    const close = { connection: 'close' }; // a new connection per request: the primary deals them out in turn
    for (let i = 0; i < 10; i++) expect((await post(s.url, '/recommend', { user: `u${i}` }, close)).status).toBe(200);
    const text = (await get(s.url, '/metrics')).text;
    expect(text).toMatch(/^recbridge_http_requests_total\{route="\/recommend",status="200",strategy="model"\} 10$/m);
    expect(text).toMatch(/^recbridge_model_version 1$/m);
    await writeModel(model, 2);
    await until(
      async () => {
        const versions = await Promise.all(Array.from({ length: 6 }, () => post(s.url, '/recommend', { user: 'u1' }, close)));
        return versions.every((r) => r.status === 200 && r.json.version === 2);
      },
      15_000,
      'both processes to serve version 2',
    );
    await until(() => [...s.stderr().matchAll(/"msg":"model reloaded"/g)].length === 2, 5000, 'both reload log lines');
    const slow = slowRequest(s.url, JSON.stringify({ user: 'u3', k: 2 }));
    await slow.start();
    await new Promise((r) => setTimeout(r, 200));
    s.child.kill('SIGTERM');
    await until(() => (s.stderr().match(/closing: finishing/g) ?? []).length === 2, 5000, 'both processes closing');
    expect(await slow.finish()).toMatch(/^HTTP\/1\.1 200 /);
    expect(await s.exited).toBe(0);
  } finally {
    s.child.kill('SIGKILL');
  }
}, 90_000);

test('importing recbridge loads neither fastify nor prom-client (only a service does)', () => {
  const probe = `const rb = require(${JSON.stringify(path.join(root, 'dist'))});
    const loaded = () => Object.keys(require.cache).filter((k) => /node_modules\\/(fastify|prom-client)\\//.test(k)).length > 0;
    const before = loaded();
    rb.startService({ model: ${JSON.stringify(f.model)}, port: 0, watch: false }).then((s) => {
      console.log(JSON.stringify({ before, after: loaded() }));
      return s.close();
    });`;
  const out = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  expect(JSON.parse(out.stdout.trim())).toEqual({ before: false, after: true });
});
