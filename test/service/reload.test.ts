// Hot reload: the model file replaced (saveModel: temporary file + rename) while clients fire
// requests without pause; no request fails, every answer comes whole from one model version, and a
// corrupt or half-written replacement leaves the serving model in place.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Recommender, type RecommendService, startService } from '../../lib';
import { type Files, files, get, post, until, writeModel, writeSeen } from './helpers';

let f: Files;

beforeAll(async () => {
  f = await files();
});

afterAll(() => {
  fs.rmSync(f.dir, { recursive: true, force: true });
});

interface Load {
  stop(): Promise<{ ok: number; failed: string[]; byVersion: Map<number, Set<string>> }>;
  versions: Set<number>;
}

/** Clients that each send the next request as soon as the previous one is answered. */
function load(url: string, clients: number): Load {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const versions = new Set<number>();
  const byVersion = new Map<number, Set<string>>();
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      try {
        const r = await post(url, '/recommend', { user: 'u1', k: 5 });
        if (r.status !== 200) failed.push(`${r.status} ${r.text}`);
        else {
          ok++;
          versions.add(r.json.version);
          const ids = r.json.items.map((x: { id: string }) => x.id).join(',');
          if (!byVersion.has(r.json.version)) byVersion.set(r.json.version, new Set());
          byVersion.get(r.json.version)!.add(ids);
        }
      } catch (err) {
        failed.push(String(err));
      }
    }
  });
  return {
    versions,
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, failed, byVersion };
    },
  };
}

async function expected(seed: number): Promise<string> {
  const file = path.join(f.dir, `reference-${seed}.safetensors`);
  await writeModel(file, seed);
  const rec = await Recommender.fromFile(file);
  return rec.recommend('u1', 5, { excludeSeen: false }).items.join(',');
}

describe.each([
  ['on the event loop', 0],
  ['in worker threads', 2],
])('replacing the model file under load (%s)', (_name, workers) => {
  test('zero failed requests, the version moves on, no answer mixes two models', async () => {
    const model = path.join(f.dir, `served-${workers}.safetensors`);
    await writeModel(model, 1);
    const service = await startService({ model, port: 0, workers, pollMs: 100, debounceMs: 20, processMetrics: false });
    const swaps = workers ? 3 : 5;
    try {
      const clients = load(service.url, 4);
      await until(() => clients.versions.size > 0, 10_000, 'the first answers');
      for (let i = 1; i <= swaps; i++) {
        await writeModel(model, 1 + i);
        await until(() => clients.versions.has(1 + i), 10_000, `version ${1 + i} to serve`);
      }
      const { ok, failed, byVersion } = await clients.stop();
      expect(failed).toEqual([]);
      expect(ok).toBeGreaterThan(swaps * 5);
      expect(service.model!.version).toBe(1 + swaps);
      // No seen file here, so each version's answer for u1 is its model's own top 5.
      for (const [version, answers] of byVersion) expect([...answers]).toEqual([await expected(version)]);
      expect((await get(service.url, '/metrics')).text).toMatch(
        new RegExp(`^recbridge_model_reloads_total\\{result="ok"\\} ${swaps}$`, 'm'),
      );
    } finally {
      await service.close();
    }
  });
});

describe('a replacement that does not load', () => {
  let service: RecommendService;
  let model: string;

  beforeAll(async () => {
    model = path.join(f.dir, 'guarded.safetensors');
    await writeModel(model, 1);
    service = await startService({ model, seen: f.seen, port: 0, pollMs: 100, debounceMs: 20, processMetrics: false });
  });

  afterAll(async () => {
    await service.close();
  });

  const failures = async () =>
    Number(/^recbridge_model_reloads_total\{result="failed"\} (\d+)$/m.exec((await get(service.url, '/metrics')).text)![1]);

  test('a corrupt file swapped in is rejected and counted; the old model keeps serving', async () => {
    const before = await post(service.url, '/recommend', { user: 'u1', k: 5 });
    const clients = load(service.url, 2);
    const bytes = fs.readFileSync(model);
    bytes[bytes.length - 3] ^= 0xff; // a tensor byte: the checksum catches it
    const tmp = path.join(f.dir, 'guarded.tmp');
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, model);
    await until(async () => (await failures()) === 1, 10_000, 'the failed reload');
    const { failed } = await clients.stop();
    expect(failed).toEqual([]);
    const after = await post(service.url, '/recommend', { user: 'u1', k: 5 });
    expect(after.json).toEqual(before.json);
    expect(service.model!.version).toBe(1);
    const r = await service.reload();
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'ERR_CORRUPT_FILE' });
  });

  test('a file written in place, half then whole, ends up serving once complete', async () => {
    const next = path.join(f.dir, 'next.safetensors');
    await writeModel(next, 7);
    const bytes = fs.readFileSync(next);
    const clients = load(service.url, 2);
    fs.writeFileSync(model, bytes.subarray(0, bytes.length >> 1));
    await new Promise((r) => setTimeout(r, 150));
    fs.writeFileSync(model, bytes);
    await until(() => service.model!.version === 2, 10_000, 'the complete file to serve');
    const { failed } = await clients.stop();
    expect(failed).toEqual([]);
    expect(service.model!.sha256).toBe(require('node:crypto').createHash('sha256').update(bytes).digest('hex'));
  });

  test('a changed seen file reloads too; the same file saved again is no swap', async () => {
    const top = (await post(service.url, '/recommend', { user: 'u1', k: 1 })).json.items[0].id as string;
    fs.appendFileSync(f.seen, `u1\t${top}\n`);
    await until(() => service.model!.version === 3, 10_000, 'the reload after the seen file changed');
    const now = await post(service.url, '/recommend', { user: 'u1', k: 5 });
    expect(now.json.items.map((x: { id: string }) => x.id)).not.toContain(top);
    fs.copyFileSync(model, `${model}.copy`);
    fs.renameSync(`${model}.copy`, model); // same bytes, new inode
    expect((await service.reload()).status).toBe('unchanged');
    expect((await service.reload({ force: true })).status).toBe('swapped');
    writeSeen(f.seen);
  });
});
