// Every route of the service over real HTTP on loopback, every kind of bad request (a 4xx whose
// body names the field), the metrics text, readiness before the model is loaded, and the worker pool.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { Recommender, RecommendService, Vocabulary, loadInteractions, loadModel, startService } from '../../lib';
import { type Files, files, get, post, writeModel } from './helpers';

let f: Files;
let service: RecommendService;
let url: string;
let reference: Recommender;

beforeAll(async () => {
  f = await files();
  service = await startService({ model: f.model, seen: f.seen, port: 0, quantize: 'int8', watch: false });
  url = service.url;
  const loaded = await loadModel(f.model, { forServing: true });
  const seen = await loadInteractions(f.seen, {
    users: new Vocabulary(loaded.vocabularies.users!.toArray()).freeze(),
    items: new Vocabulary(loaded.vocabularies.items!.toArray()).freeze(),
    skipMalformed: true,
  });
  reference = await Recommender.create(loaded, { quantize: 'int8', seen: seen.interactions });
});

afterAll(async () => {
  await service?.close();
  fs.rmSync(f.dir, { recursive: true, force: true });
});

describe('POST /recommend', () => {
  test('a known user gets what Recommender.recommend gives, seen items excluded', async () => {
    const r = await post(url, '/recommend', { user: 'u0', k: 5 });
    expect(r.status).toBe(200);
    const want = reference.recommend('u0', 5);
    expect(r.json).toEqual({
      items: want.items.map((id, j) => ({ id, score: want.scores[j] })),
      strategy: 'model',
      version: 1,
    });
    for (const seen of ['i0', 'i1', 'i2', 'i3', 'i4']) expect(r.json.items.map((x: { id: string }) => x.id)).not.toContain(seen);
  });

  test('k defaults to 10; excludeSeen: false, exclude and allow reach the kernel', async () => {
    expect((await post(url, '/recommend', { user: 'u3' })).json.items).toHaveLength(10);
    const all = await post(url, '/recommend', { user: 'u0', k: 200, excludeSeen: false });
    expect(all.json.items).toHaveLength(200);
    const allow = ['i0', 'i7', 'i9', 'i11', 'no-such-item'];
    const r = await post(url, '/recommend', { user: 'u0', k: 10, allow, exclude: ['i7'] });
    const ids = r.json.items.map((x: { id: string }) => x.id);
    expect(ids.sort()).toEqual(['i11', 'i9']); // i0 is seen, i7 excluded, the unknown id ignored
  });

  test('history, vector and an unknown user pick their strategies', async () => {
    const h = await post(url, '/recommend', { history: ['i1', 'i2'], k: 3 });
    expect(h.status).toBe(200);
    expect(h.json.strategy).toBe('fold-in');
    expect(h.json.items.map((x: { id: string }) => x.id)).not.toContain('i1');
    const v = await post(url, '/recommend', { vector: Array.from({ length: 8 }, (_, i) => i - 3), k: 3 });
    expect(v.json.strategy).toBe('vector');
    expect(v.json.items.map((x: { id: string }) => x.id)).toEqual(
      reference.recommend({ vector: Array.from({ length: 8 }, (_, i) => i - 3) }, 3).items,
    );
    const p = await post(url, '/recommend', { user: 'nobody', k: 3 });
    expect(p.json.strategy).toBe('popularity');
  });
});

test('POST /similar and POST /recommend/batch', async () => {
  const s = await post(url, '/similar', { item: 'i5', k: 4, exclude: ['i6'] });
  expect(s.status).toBe(200);
  const want = reference.similarItems('i5', 4, { exclude: ['i6'] });
  expect(s.json).toEqual({ items: want.items.map((id, j) => ({ id, score: want.scores[j] })), version: 1 });

  const b = await post(url, '/recommend/batch', { requests: [{ user: 'u1', k: 2 }, { history: ['i3'] }, { user: 'u2', k: 0 }] });
  expect(b.status).toBe(400); // the schema checks every entry before any runs
  expect(b.json.field).toBe('body.requests[2].k');
  const ok = await post(url, '/recommend/batch', { requests: [{ user: 'u1', k: 2 }, { history: ['i3'] }, { user: 'u1', vector: [1] }] });
  expect(ok.status).toBe(200);
  expect(ok.json.results[0]).toEqual((await post(url, '/recommend', { user: 'u1', k: 2 })).json);
  expect(ok.json.results[1].strategy).toBe('fold-in');
  expect(ok.json.results[1].items).toHaveLength(10);
  expect(ok.json.results[2]).toMatchObject({ status: 400, error: 'ERR_INVALID_ARG', field: 'body.requests[2].vector' });
});

describe('bad requests are 4xx naming the field', () => {
  const cases: [string, string, unknown, number, string][] = [
    ['k = 0', '/recommend', { user: 'u1', k: 0 }, 400, 'body.k'],
    ['k above --max-k', '/recommend', { user: 'u1', k: 1001 }, 400, 'body.k'],
    ['fractional k', '/recommend', { user: 'u1', k: 2.5 }, 400, 'body.k'],
    ['k as a string (no coercion)', '/recommend', { user: 'u1', k: '5' }, 400, 'body.k'],
    ['a numeric user', '/recommend', { user: 5 }, 400, 'body.user'],
    ['exclude not an array', '/recommend', { user: 'u1', exclude: 'i1' }, 400, 'body.exclude'],
    ['a number in exclude', '/recommend', { user: 'u1', exclude: ['i1', 3] }, 400, 'body.exclude[1]'],
    ['a number in allow', '/recommend', { user: 'u1', allow: [null] }, 400, 'body.allow[0]'],
    ['excludeSeen not boolean', '/recommend', { user: 'u1', excludeSeen: 'yes' }, 400, 'body.excludeSeen'],
    ['an unknown field', '/recommend', { user: 'u1', excludeseen: true }, 400, 'body.excludeseen'],
    ['no query', '/recommend', { k: 3 }, 400, 'body'],
    ['two queries', '/recommend', { user: 'u1', history: ['i1'] }, 400, 'body.history'],
    ['a vector of the wrong length', '/recommend', { vector: [1, 2] }, 400, 'body.vector'],
    ['an empty vector', '/recommend', { vector: [] }, 400, 'body.vector'],
    ['a string in a vector', '/recommend', { vector: ['a'] }, 400, 'body.vector[0]'],
    ['features without an encoder', '/recommend', { features: [1, 2] }, 400, 'body.features'],
    ['an array body', '/recommend', [1], 400, 'body'],
    ['a missing item', '/similar', { k: 3 }, 400, 'body.item'],
    ['an unknown item', '/similar', { item: 'nope' }, 404, 'body.item'],
    ['an empty batch', '/recommend/batch', { requests: [] }, 400, 'body.requests'],
    ['a batch without requests', '/recommend/batch', {}, 400, 'body.requests'],
  ];
  test.each(cases)('%s', async (_name, route, body, status, field) => {
    const r = await post(url, route, body);
    expect(r.status).toBe(status);
    expect(r.json.field).toBe(field);
    expect(r.json.error).toBe(status === 404 ? 'ERR_UNKNOWN_ITEM' : 'ERR_INVALID_ARG');
    expect(r.json.message).toContain(field);
    expect(r.json.message).not.toMatch(/options\.|undefined for/);
  });

  test('not JSON, not a JSON content type, no such route', async () => {
    const bad = await post(url, '/recommend', '{"user": ');
    expect([bad.status, bad.json.error, bad.json.field]).toEqual([400, 'ERR_INVALID_JSON', 'body']);
    expect(bad.json.message).toMatch(/^Expected valid JSON for body but it does not parse/);
    const text = await post(url, '/recommend', 'user=u1', { 'content-type': 'text/plain' });
    expect([text.status, text.json.error]).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(text.json.message).toBe(
      'Expected a JSON body with the header content-type: application/json but received content-type "text/plain"',
    );
    const nowhere = await get(url, '/recommendations');
    expect([nowhere.status, nowhere.json.error]).toEqual([404, 'ERR_NOT_FOUND']);
    expect(nowhere.json.message).toContain('POST /recommend');
    expect((await get(url, '/recommend')).status).toBe(404);
  });
});

test('GET /healthz and /readyz say what serves', async () => {
  expect((await get(url, '/healthz')).json).toEqual({ status: 'ok' });
  const r = await get(url, '/readyz');
  expect(r.status).toBe(200);
  const sha = createHash('sha256').update(fs.readFileSync(f.model)).digest('hex');
  expect(r.json).toEqual({ status: 'ready', version: 1, sha256: sha, path: f.model, quantize: 'int8', workers: 0 });
  expect(service.model).toMatchObject({ sha256: sha, version: 1, seenSkipped: 1 });
});

test('GET /metrics: labelled request series, latency histograms, the model, process metrics', async () => {
  const before = await get(url, '/metrics');
  const count = (text: string, series: string) =>
    Number(new RegExp(`^${series.replace(/[{}()[\].+*?^$|\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const series = 'recbridge_http_requests_total{route="/recommend",status="200",strategy="model"}';
  for (let i = 0; i < 3; i++) await post(url, '/recommend', { user: `u${i}` });
  await post(url, '/recommend', { user: 'u1', k: 0 });
  const after = await get(url, '/metrics');
  expect(after.status).toBe(200);
  expect(after.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = after.text;
  expect(count(text, series) - count(before.text, series)).toBe(3);
  expect(count(text, 'recbridge_http_requests_total{route="/recommend",status="400",strategy="none"}')).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(
    /^recbridge_http_request_duration_seconds_bucket\{le="0\.005",route="\/recommend",status="200",strategy="model"\} \d+$/m,
  );
  expect(text).toMatch(/^recbridge_http_request_duration_seconds_count\{route="\/recommend",status="200",strategy="model"\} \d+$/m);
  expect(text).toContain(`recbridge_model_info{path="${f.model}",sha256="${service.model!.sha256}",quantize="int8",version="1"} 1`);
  expect(text).toMatch(/^recbridge_model_version 1$/m);
  expect(text).toMatch(/^recbridge_model_reloads_total\{result="failed"\} 0$/m);
  expect(text).toMatch(/^recbridge_model_file_mtime_seconds \d+/m);
  expect(text).toMatch(/^recbridge_process_cpu_user_seconds_total /m);
});

describe('limits and fallbacks of other services', () => {
  test('a body over --body-limit is a 413; --fallback error makes an unknown user a 404', async () => {
    const s = await startService({ model: f.model, port: 0, bodyLimit: 256, fallback: 'error', watch: false, processMetrics: false });
    try {
      const big = await post(s.url, '/recommend', { user: 'u1', exclude: Array.from({ length: 100 }, (_, i) => `i${i}`) });
      expect([big.status, big.json.error]).toEqual([413, 'ERR_BODY_TOO_LARGE']);
      const r = await post(s.url, '/recommend', { user: 'nobody' });
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ error: 'ERR_UNKNOWN_USER', field: 'body.user' });
      expect(r.json.message).toContain('"nobody"');
      // In a batch, the unknown user is one failed entry, not a failed batch.
      const b = await post(s.url, '/recommend/batch', { requests: [{ user: 'nobody' }, { user: 'u1' }] });
      expect(b.json.results[0]).toMatchObject({ status: 404, error: 'ERR_UNKNOWN_USER', field: 'body.requests[0].user' });
      expect(b.json.results[1].strategy).toBe('model');
    } finally {
      await s.close();
    }
  });

  test('a client that takes longer than --timeout to send its request gets a 408', async () => {
    const s = await startService({ model: f.model, port: 0, timeout: 300, watch: false, processMetrics: false });
    try {
      const { port } = new URL(s.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8').on('data', (c) => (text += c));
      const closed = new Promise((r) => socket.on('close', r));
      socket.write('POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"user":');
      const started = Date.now();
      await closed;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await s.close();
    }
  });

  test('the worker pool answers what the event loop answers', async () => {
    const s = await startService({
      model: f.model,
      seen: f.seen,
      port: 0,
      quantize: 'int8',
      workers: 2,
      watch: false,
      processMetrics: false,
    });
    try {
      for (const body of [
        { user: 'u0', k: 5 },
        { history: ['i1', 'i2'], k: 3 },
        { user: 'u4', exclude: ['i9'], allow: ['i9', 'i10', 'i12'] },
      ]) {
        const [a, b] = await Promise.all([post(s.url, '/recommend', body), post(url, '/recommend', body)]);
        expect(a.json).toEqual(b.json);
      }
      expect((await post(s.url, '/similar', { item: 'i5', k: 3 })).json).toEqual((await post(url, '/similar', { item: 'i5', k: 3 })).json);
      expect((await post(s.url, '/recommend', { vector: [1] })).json.field).toBe('body.vector');
      expect((await get(s.url, '/readyz')).json.workers).toBe(2);
    } finally {
      await s.close();
    }
  });
});

test('bad options are typed errors naming the option; a model that does not load fails the start', async () => {
  await expect(startService({ model: 5 as unknown as string })).rejects.toMatchObject({
    code: 'ERR_INVALID_ARG_TYPE',
    argument: 'options.model',
  });
  await expect(startService({ model: f.model, port: 70_000 })).rejects.toMatchObject({
    code: 'ERR_OUT_OF_RANGE',
    argument: 'options.port',
  });
  await expect(startService({ model: f.model, quantize: 'int4' as 'int8' })).rejects.toMatchObject({ argument: 'options.quantize' });
  const corrupt = path.join(f.dir, 'corrupt.safetensors');
  fs.writeFileSync(corrupt, fs.readFileSync(f.model).subarray(0, 300));
  await expect(startService({ model: corrupt, port: 0, watch: false })).rejects.toMatchObject({ code: 'ERR_CORRUPT_FILE' });
  await expect(startService({ model: path.join(f.dir, 'missing'), port: 0 })).rejects.toMatchObject({ code: 'ENOENT' });
});

test('while the model loads, /healthz is 200 and /readyz and /recommend are 503', async () => {
  // A FIFO as the model file: the load waits until the test writes the bytes.
  const fifo = path.join(f.dir, 'model.fifo');
  execFileSync('mkfifo', [fifo]);
  const other = path.join(f.dir, 'other.safetensors');
  await writeModel(other, 2);
  let bound = '';
  const starting = startService({ model: fifo, port: 0, watch: false, processMetrics: false, onListening: (u) => (bound = u) });
  try {
    for (let i = 0; i < 200 && !bound; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await get(bound, '/healthz')).status).toBe(200);
    const ready = await get(bound, '/readyz');
    expect([ready.status, ready.json.status]).toEqual([503, 'loading']);
    const r = await post(bound, '/recommend', { user: 'u1' });
    expect([r.status, r.json.error]).toEqual([503, 'ERR_NOT_READY']);
    fs.writeFileSync(fifo, fs.readFileSync(other));
    const s = await starting;
    expect((await get(bound, '/readyz')).status).toBe(200);
    await s.close();
  } catch (err) {
    fs.writeFileSync(fifo, ''); // unblock the load so the service can close
    await (await starting.catch(() => null))?.close();
    throw err;
  }
});

test('RecommendService is exported with startService', () => {
  expect(typeof RecommendService.start).toBe('function');
});
