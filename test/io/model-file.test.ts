import * as fs from 'node:fs';
import * as path from 'node:path';

import { MatrixFactorization, Trainer, type TwoTower, Vocabulary, inspectModel, loadModel, saveModel } from '../../lib';
import { native } from '../../lib/core/native';
import { planted } from '../support/planted';
import { bits, mfWithState, snapshot, tempDir, towerWithState } from './helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function fileHeader(file: string): { length: number; json: Record<string, unknown> } {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return { length, json: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) };
}

describe('saveModel / loadModel round trips', () => {
  it.each([false, true])('matrix factorization (itemBias %s) is bit-exact with optimizer state', async (itemBias) => {
    const m = mfWithState(itemBias);
    const file = path.join(dir, `mf-${itemBias}.safetensors`);
    const report = await saveModel(file, m);
    expect(report.bytes).toBe(fs.statSync(file).size);
    const loaded = await loadModel(file);
    expect(loaded.kind).toBe('matrix-factorization');
    expect(loaded.optimizerState).toBe(true);
    expect(snapshot(loaded.model)).toEqual(snapshot(m));
    // Views of one shared buffer, every table on a cache-line boundary.
    for (const p of loaded.model.parameters()) {
      expect(p.table.shared).toBe(true);
      expect(native.byteAlignment(p.table.data)).toBe(0);
    }
  });

  it('matrix factorization without optimizer state saves none', async () => {
    const m = mfWithState(true);
    const file = path.join(dir, 'mf-nostate.safetensors');
    await saveModel(file, m, { optimizerState: false });
    const loaded = await loadModel(file);
    expect(loaded.optimizerState).toBe(false);
    expect(snapshot(loaded.model, false)).toEqual(snapshot(m, false));
    for (const p of loaded.model.parameters()) expect(p.state).toBeNull();
    expect(Object.keys(fileHeader(file).json).some((k) => k.startsWith('optimizer.'))).toBe(false);
  });

  it.each(['dot', 'cosine'] as const)('two-tower (%s, features, dense, MLP) is bit-exact, inputs included', async (similarity) => {
    const m = towerWithState(similarity);
    const file = path.join(dir, `tt-${similarity}.safetensors`);
    await saveModel(file, m);
    const loaded = await loadModel(file);
    const t = loaded.model as TwoTower;
    expect(snapshot(t)).toEqual(snapshot(m));
    // The feature bags and dense inputs came back too: encodings agree bit for bit.
    for (const side of ['user', 'item'] as const) {
      const [a, b] = await Promise.all([m.encode(side, 1), t.encode(side, 1)]);
      expect(Array.from(bits(b.data))).toEqual(Array.from(bits(a.data)));
    }
  });

  it('forServing skips the optimizer state and reads less', async () => {
    const m = towerWithState();
    const file = path.join(dir, 'tt-serving.safetensors');
    await saveModel(file, m);
    const full = await loadModel(file);
    const serving = await loadModel(file, { forServing: true });
    expect(serving.optimizerState).toBe(false);
    expect(serving.bytesRead).toBeLessThan(full.bytesRead);
    for (const p of serving.model.parameters()) expect(p.state).toBeNull();
    expect(snapshot(serving.model, false)).toEqual(snapshot(m, false));
  });

  it('keeps vocabularies, provenance and the epoch count', async () => {
    const m = new MatrixFactorization({ users: 3, items: 4, dim: 2 });
    const users = new Vocabulary(['ann', 'bob', 'ç€😀']);
    const items = new Vocabulary(['i1', 'i2', 'i"3', 'i\n4']);
    const file = path.join(dir, 'vocab.safetensors');
    await saveModel(file, m, { vocabularies: { users, items }, provenance: { data: 'ml-100k', metrics: { ndcg: 0.3 } } });
    const loaded = await loadModel(file);
    expect(loaded.vocabularies.users!.toArray()).toEqual(users.toArray());
    expect(loaded.vocabularies.items!.toArray()).toEqual(items.toArray());
    expect(loaded.provenance).toEqual({ data: 'ml-100k', metrics: { ndcg: 0.3 } });
    expect(loaded.savedBy).toMatchObject({ library: 'recbridge' });
    const info = await inspectModel(file);
    expect(info).toMatchObject({
      kind: 'matrix-factorization',
      formatVersion: 1,
      vocabularySizes: { users: 3, items: 4 },
      config: { users: 3, items: 4, dim: 2 },
    });
  });

  it('stores a vocabulary too large for the header in a tensor', async () => {
    // Long ids keep the count (and the test) small while the JSON passes 16 MiB.
    const items = 90_000;
    const m = new MatrixFactorization({ users: 2, items, dim: 1 });
    m.itemEmbedding.optimizerState('adagrad').fill(1);
    const ids = Array.from({ length: items }, (_, i) => `item-${i}-${'x'.repeat(190)}`);
    const file = path.join(dir, 'big-vocab.safetensors');
    await saveModel(file, m, { vocabularies: { items: new Vocabulary(ids), users: new Vocabulary(['u0', 'u1']) } });
    const { length, json } = fileHeader(file);
    expect(length).toBeLessThan(1 << 20);
    expect(json['vocabulary.items']).toMatchObject({ dtype: 'U8' });
    expect(JSON.parse((json.__metadata__ as Record<string, string>)['recbridge.vocabularies'])).toEqual({
      users: ['u0', 'u1'],
      items: { tensor: 'vocabulary.items', count: items },
    });
    for (const forServing of [false, true]) {
      const loaded = await loadModel(file, { forServing });
      expect(loaded.vocabularies.items!.size).toBe(items);
      expect(loaded.vocabularies.items!.id(items - 1)).toBe(ids[items - 1]);
      expect(loaded.vocabularies.users!.toArray()).toEqual(['u0', 'u1']);
    }
    expect((await inspectModel(file)).vocabularySizes).toEqual({ users: 2, items });
  });

  it('training resumes exactly: the loaded model continues like the original', async () => {
    const { train } = planted(80, 40, 3);
    const a = new MatrixFactorization({ users: 80, items: 40, dim: 8, seed: 2 });
    await Trainer.fit(a, train, { optimizer: { type: 'adam' }, epochs: 2, threads: 1, seed: 4 });
    const file = path.join(dir, 'resume.safetensors');
    await saveModel(file, a);
    const b = (await loadModel(file)).model as MatrixFactorization;
    await Trainer.fitPartial(a, train, { optimizer: { type: 'adam' }, epochs: 1, threads: 1, seed: 4 });
    await Trainer.fitPartial(b, train, { optimizer: { type: 'adam' }, epochs: 1, threads: 1, seed: 4 });
    expect(b.epochsTrained).toBe(3);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('writes a valid safetensors layout: aligned data, contiguous tensors, string metadata', async () => {
    const file = path.join(dir, 'layout.safetensors');
    await saveModel(file, towerWithState());
    const { length, json } = fileHeader(file);
    expect((8 + length) % 64).toBe(0);
    const entries = Object.entries(json).filter(([k]) => k !== '__metadata__') as [
      string,
      { dtype: string; data_offsets: [number, number] },
    ][];
    entries.sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0]);
    let at = 0;
    for (const [name, e] of entries) {
      expect(e.data_offsets[0]).toBe(at);
      // No filler tensors: another reader's strict load (PyTorch's load_state_dict) sees only ours.
      expect(name.startsWith('__padding__.')).toBe(false);
      const size = e.data_offsets[1] - e.data_offsets[0];
      // Tensors of a 64-byte multiple come first and stay 64-aligned; every tensor is element-aligned.
      if (size % 64 === 0) expect(e.data_offsets[0] % 64).toBe(0);
      expect(e.data_offsets[0] % ({ F32: 4, I32: 4, U8: 1 } as Record<string, number>)[e.dtype]).toBe(0);
      at = e.data_offsets[1];
    }
    expect(8 + length + at).toBe(fs.statSync(file).size);
    for (const v of Object.values(json.__metadata__ as object)) expect(typeof v).toBe('string');
  });

  it('rejects bad arguments and a busy model', async () => {
    const m = new MatrixFactorization({ users: 3, items: 4, dim: 2 });
    await expect(saveModel(path.join(dir, 'x'), {} as MatrixFactorization)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(saveModel(path.join(dir, 'x'), m, { vocabularies: { users: new Vocabulary(['a']) } })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/options\.vocabularies\.users/),
    });
    const release = m.acquire('test');
    await expect(saveModel(path.join(dir, 'x'), m)).rejects.toMatchObject({ code: 'ERR_BUSY' });
    release();
    await expect(loadModel(path.join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('non-finite weights', () => {
  const dir = tempDir();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'a model holding %s is refused at load, naming the tensor, row and column',
    async (bad) => {
      const m = new MatrixFactorization({ users: 10, items: 6, dim: 4 });
      m.itemEmbedding.table.data[2 * 4 + 3] = bad;
      const file = path.join(dir, `bad-${bad}.safetensors`);
      await saveModel(file, m);
      await expect(loadModel(file)).rejects.toMatchObject({
        code: 'ERR_CORRUPT_FILE',
        message: expect.stringContaining(`tensor "item.embedding" holds ${bad} at row 2, column 3`),
      });
      await expect(loadModel(file, { forServing: true })).rejects.toMatchObject({ code: 'ERR_CORRUPT_FILE' });
    },
  );
});
