// What the Reproducibility table of docs/api-models-training.md promises, checked.
import { createHash } from 'node:crypto';

import { capabilities, setIsa, type IsaName } from '../../lib/core/config';
import { uniformGenerator } from '../../lib/core/random';
import { Interactions } from '../../lib/data/interactions';
import { evaluateRanking } from '../../lib/eval/ranking';
import { MatrixFactorization } from '../../lib/models/matrix-factorization';
import { TwoTower } from '../../lib/models/two-tower';
import { Trainer } from '../../lib/train/trainer';
import { trainTwoTower } from '../../lib/train/two-tower-trainer';

const rand = uniformGenerator(1);
const n = 12_000;
const data = new Interactions({
  users: Int32Array.from({ length: n }, () => Math.floor(rand() * 400)),
  items: Int32Array.from({ length: n }, () => Math.floor(rand() ** 2 * 200)),
  numUsers: 400,
  numItems: 200,
});

function digest(model: MatrixFactorization | TwoTower): string {
  const h = createHash('sha256');
  for (const p of model.parameters()) h.update(new Uint8Array(p.table.data.buffer, p.table.data.byteOffset, p.table.data.byteLength));
  return h.digest('hex');
}

async function mf(threads: number) {
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 16, seed: 3 });
  await Trainer.fit(m, data, { epochs: 2, threads, seed: 5 });
  return m;
}

async function towers(threads: number) {
  const m = new TwoTower({ users: 400, items: 200, dim: 16, user: { mlp: [16] }, seed: 3 });
  await trainTwoTower(m, data, { epochs: 1, threads, batchSize: 256, seed: 5 });
  return m;
}

const isas = capabilities().supportedIsas as IsaName[];
afterAll(() => setIsa(capabilities().detectedIsa as IsaName));

describe.each(isas)('on %s', (isa) => {
  beforeAll(() => setIsa(isa));

  test('matrix factorization with one thread is bit-identical run to run', async () => {
    expect(digest(await mf(1))).toBe(digest(await mf(1)));
  });

  test.each([1, 2, 3])('two-tower training with %i thread(s) is bit-identical run to run', async (threads) => {
    expect(digest(await towers(threads))).toBe(digest(await towers(threads)));
  });

  test('evaluation gives the same metrics on any number of threads', async () => {
    const model = await mf(1);
    const one = await evaluateRanking(model, data, { ks: [5, 10], threads: 1 });
    for (const threads of [2, 4]) expect(await evaluateRanking(model, data, { ks: [5, 10], threads })).toEqual(one);
  });
});

test('evaluation of the same weights gives the same metrics on every ISA', async () => {
  setIsa(isas[0]!);
  const model = await mf(1);
  const results = [];
  for (const isa of isas) {
    setIsa(isa);
    results.push(await evaluateRanking(model, data, { ks: [5, 10] }));
  }
  for (const r of results) expect(r).toEqual(results[0]);
});
