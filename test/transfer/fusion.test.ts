import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { main } from '../../lib/commands/cli';
import {
  DEFAULT_SETTINGS,
  EmbeddingTable,
  Interactions,
  TransferContext,
  alignDomains,
  coldUserSplit,
  evaluateRanking,
  fineTune,
  fusion,
  loadModel,
  neighbours,
  popularity,
  syntheticDomains,
  topK,
  transfer,
  type AutoModel,
  type FusedEvaluation,
  type MatrixFactorization,
  type RankingModel,
  type Strategy,
} from '../../lib';
import { crossFittedValue, fusionGrid, segmentBounds, segmentOf, simplexGrid, UserScores } from '../../lib/transfer/score-fusion';

const settings = { dim: 16, epochs: 30, threads: 1 };
const small = (seed: number) =>
  syntheticDomains({ users: 400, sourceItems: 150, targetItems: 120, sourcePerUser: 20, targetPerUser: 10, seed });

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('score fusion building blocks', () => {
  test('the simplex grid lists each component alone first, then every other point once, each summing to 1', () => {
    const g = simplexGrid(3, 5);
    expect(g.length).toBe(21);
    expect(g.slice(0, 3)).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    for (const w of g) expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(new Set(g.map((w) => w.join())).size).toBe(21);
    // Vertices once; every mixed point under both normalisations.
    expect(fusionGrid(2, ['minmax', 'rank']).length).toBe(2 + 2 * 9);
  });

  test('segments split lengths at quantiles and keep at least minUsers per segment', () => {
    const lengths = Array.from({ length: 90 }, (_, i) => 1 + (i % 30));
    const b = segmentBounds(lengths, 3, 30);
    expect(b).toEqual([11, 21]);
    expect([1, 10, 11, 20, 21, 99].map((x) => segmentOf(x, b))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(segmentBounds(lengths, 3, 50)).toEqual([]);
    // All lengths equal: one segment.
    expect(segmentBounds(new Array(100).fill(4), 3, 10)).toEqual([]);
  });

  test('the cross-fitted value scores each half of the users with the picks made on the other half', () => {
    // Each configuration wins on alternate users: tuned in sample it looks perfect on half of them,
    // out of sample it always picks the wrong one.
    const alternating = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 1]);
    expect(crossFittedValue(alternating, 2, new Int32Array(4), 1)).toBe(0);
    expect(crossFittedValue(Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0]), 2, new Int32Array(4), 1)).toBe(1);
    // Per segment: segment 1 (users 2, 3) prefers configuration 1 on both folds.
    expect(crossFittedValue(Float32Array.from([1, 1, 0, 0, 0, 0, 1, 1]), 2, Int32Array.from([0, 0, 1, 1]), 2)).toBe(1);
  });

  test('rank normalisation: reciprocal ranks, ties share a rank, the lowest score carries nothing', () => {
    const s = new UserScores([Float32Array.from([0, 5, 3, 5, 0, 1])], 4);
    const v = (j: number) => s.value(0, 'rank', j);
    const floor = 60 / 64;
    expect(v(1)).toBeCloseTo(1 - floor, 6);
    expect(v(3)).toBeCloseTo(1 - floor, 6);
    expect(v(2)).toBeCloseTo(60 / 62 - floor, 6);
    expect(v(5)).toBeCloseTo(60 / 63 - floor, 6);
    expect(v(0)).toBe(0);
    expect(v(4)).toBe(0);
    expect(s.value(0, 'minmax', 2)).toBeCloseTo(0.6, 6);
  });

  test('the blended top k equals the native top-K of the full blended vector (ties, masks, both paths)', () => {
    const rand = lcg(7);
    const n = 300;
    const ONE = new Float32Array([1]);
    for (let trial = 0; trial < 40; trial++) {
      // Coarse values make ties common; a sparse component has many items at its floor.
      const raw = [
        Float32Array.from({ length: n }, () => Math.floor(rand() * 20)),
        Float32Array.from({ length: n }, () => (rand() < 0.1 ? rand() : 0)),
        Float32Array.from({ length: n }, () => rand() * 4 - 2),
      ];
      const depth = [5, 20, 400][trial % 3];
      const scores = new UserScores(raw, depth);
      const maskedList = Int32Array.from(new Set(Array.from({ length: 30 }, () => Math.floor(rand() * n)))).sort();
      const masked = new Uint8Array(n);
      for (const j of maskedList) masked[j] = 1;
      const buffer = new Float32Array(n);
      for (const config of fusionGrid(3, ['minmax', 'rank'])) {
        const k = 1 + (trial % 12);
        const full = scores.blend(config);
        const expected = topK(new EmbeddingTable(full, 1), ONE, k, { exclude: maskedList, threads: 1 }).indices;
        expect(Array.from(scores.rank(config, k, masked, maskedList, buffer))).toEqual(Array.from(expected));
        const some = Int32Array.from([0, 7, n - 1, 42]);
        expect(Array.from(scores.blendAt(config, some, new Float32Array(4)))).toEqual(Array.from(some, (j) => full[j]));
      }
    }
  });
});

describe('fusion strategy', () => {
  test('on validation, fusion is at least as good as each of its components, cold and warm (property over seeds)', async () => {
    for (const seed of [1, 2, 3]) {
      const { source, target } = small(seed);
      const alignment = alignDomains(source, target);
      const split = coldUserSplit(alignment, { seed });
      const ctx = new TransferContext(alignment, split, { ...DEFAULT_SETTINGS, ...settings }, seed);
      const components: Strategy[] = [neighbours, fineTune(), popularity];
      const fused = (await ctx.run(fusion({ components, segments: 2, minSegmentUsers: 10 }))) as FusedEvaluation;
      expect(fused.choice).toMatch(/cold users by source rows/);
      for (const validation of [ctx.coldValidation, ctx.warmValidation]) {
        const value = (await fused.evaluate(validation, split.train, 10)).ndcg;
        for (const c of components) {
          const m = await ctx.run(c);
          const v = 'evaluate' in m ? (await m.evaluate(validation, split.train, 10)).ndcg : (await ctx.validate(m, validation)).ndcg;
          // Rounding of normalised scores can reorder exact float ties: a hair of slack, no more.
          expect(value).toBeGreaterThanOrEqual(v - 1e-3);
        }
      }
    }
  }, 120_000);

  test('bad options are typed errors naming the argument', () => {
    expect(() => fusion({ components: [neighbours] })).toThrow(/options\.components/);
    expect(() => fusion({ segments: 0 })).toThrow(/options\.segments/);
    expect(() => fusion({ normalizations: ['z' as 'rank'] })).toThrow(/options\.normalizations/);
    expect(() => fusion({ components: [neighbours, {} as Strategy] })).toThrow(/options\.components\[1\]/);
  });
});

describe('auto', () => {
  // A model that knows every cold user's held-out items (one-hot item vectors): the known best.
  const oracle = (name: string, relevant: (ctx: TransferContext) => Interactions): Strategy => ({
    name,
    summary: 'knows the held-out items',
    async run(ctx): Promise<RankingModel> {
      const items = ctx.alignment.target.numItems;
      const users = ctx.alignment.target.numUsers;
      const table = EmbeddingTable.create(items, items);
      for (let i = 0; i < items; i++) table.data[i * items + i] = 1;
      const rows = relevant(ctx).byUser();
      return {
        users,
        items,
        encodeItems: () => table,
        userQuery(u) {
          const q = new Float32Array(items);
          for (let e = rows.offsets[u]; e < rows.offsets[u + 1]; e++) q[rows.indices[e]] = 1;
          return q;
        },
      };
    },
  });

  test('picks the strategy that is best on cold validation users, and reports the pick per seed', async () => {
    const { source, target } = small(4);
    // Perfect on every validation user (cold and warm), so no blend can beat it, even on ties.
    const good = oracle('good', (ctx) => ctx.split.validation);
    const report = await transfer(source, target, { strategies: ['fine-tune', good], auto: true, seeds: 2, settings });
    const row = (name: string) => report.results.find((r) => r.strategy === name)!;
    const a = row('auto');
    expect(a.choices).toHaveLength(2);
    for (const c of a.choices!) expect(c).toMatch(/^good \(cold validation ndcg@10 1\.0000/);
    expect(a.runs).toEqual(row('good').runs);
  }, 120_000);

  test('exact ties on cold validation users go to the best on warm validation users', async () => {
    const { source, target } = small(7);
    const heldOut = (ctx: TransferContext) => Interactions.concat([ctx.split.validation, ctx.split.test]);
    const coldOnly = oracle('cold-only', (ctx) => {
      const all = heldOut(ctx);
      return all.subset(Int32Array.from(Array.from(all.users, (u, i) => (ctx.split.isCold[u] ? i : -1)).filter((i) => i >= 0)));
    });
    const everyone = oracle('everyone', heldOut);
    const report = await transfer(source, target, { strategies: [coldOnly, everyone], auto: true, seeds: 1, settings });
    expect(report.results.find((r) => r.strategy === 'auto')!.choices![0]).toMatch(/^everyone \(cold validation ndcg@10 1\.0000/);
  }, 120_000);

  test('is never below any candidate on validation: with a misleading candidate it keeps the validation winner', async () => {
    const { source, target } = small(5);
    // Perfect on test users only: validation cannot see it, so auto must not pick it.
    const peek = oracle('peek', (ctx) => ctx.split.test);
    const report = await transfer(source, target, {
      strategies: ['fine-tune', 'fusion', peek],
      auto: true,
      seeds: 1,
      settings,
      sampled: { negatives: 20 },
    });
    // Fusion serves the sampled protocol too.
    const sampled = report.results.find((r) => r.strategy === 'fusion')!.sampled!.cold.hit.mean;
    expect(sampled).toBeGreaterThan(0);
    expect(sampled).toBeLessThanOrEqual(1);
    const choice = report.results.find((r) => r.strategy === 'auto')!.choices![0];
    expect(choice.startsWith('peek')).toBe(false);
    const values = Object.fromEntries(
      choice
        .split('candidates: ')[1]
        .split(', ')
        .map((x) => [x.slice(0, x.lastIndexOf(' ')), Number(x.slice(x.lastIndexOf(' ') + 1))]),
    );
    const chosen = Number(/ndcg@10 ([0-9.]+)/.exec(choice)![1]);
    for (const v of Object.values(values)) expect(chosen).toBeGreaterThanOrEqual(v as number);
  }, 120_000);

  test('when the pick is not one embedding model, the best embedding candidate on validation is the servable stand-in', async () => {
    const { source, target } = small(6);
    const vectors = oracle('vectors', (ctx) => Interactions.concat([ctx.split.validation, ctx.split.test]));
    // The same oracle behind a custom evaluation: not savable as a model file.
    const custom: Strategy = {
      name: 'custom',
      summary: 'an oracle with its own evaluation',
      async run(ctx) {
        const m = (await vectors.run(ctx)) as RankingModel;
        return {
          evaluate: (test, exclude, k, options) => evaluateRanking(m, test, { k, exclude, perUser: options?.perUser }),
          scorer: () => ({
            users: m.users,
            items: m.items,
            score: (u: number, candidates: Int32Array, out: Float32Array) => {
              const q = m.userQuery(u);
              candidates.forEach((j, c) => (out[c] = q[j]));
              return out;
            },
          }),
        };
      },
    };
    let picked: AutoModel | undefined;
    await transfer(source, target, {
      strategies: [custom, 'fine-tune'],
      auto: true,
      seeds: 1,
      settings,
      onModel: (e) => {
        if (e.strategy === 'auto') picked = e.model as AutoModel;
      },
    });
    expect(picked!.chosen).toBe('custom');
    expect('encodeItems' in picked!).toBe(false);
    const embeddings = ['popularity', 'target-only', 'fine-tune'];
    const best = embeddings.reduce((a, b) => (picked!.validation[b] > picked!.validation[a] ? b : a));
    expect(picked!.servable!.strategy).toBe(best);
  }, 120_000);

  test('transfer --auto --save writes a model that loads and ranks as the report evaluated it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-auto-'));
    const file = path.join(dir, 'auto.safetensors');
    const json = path.join(dir, 'lift.json');
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let code: number;
    try {
      code = await main(
        ['transfer', '--demo', '--users', '300', '--strategies', 'fine-tune,mapping-linear', '--auto', '--seeds', '1'].concat([
          '--dim',
          '8',
          '--epochs',
          '20',
          '--threads',
          '1',
          '--save',
          file,
          '--json',
          json,
          '--quiet',
        ]),
      );
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    const loaded = await loadModel(file);
    const provenance = loaded.provenance as { strategy: string; auto: { chosen: string } };
    // The saved model is auto's pick, or (when auto picked a neighbourhood model or a blend) the
    // embedding strategy that stood in for it: either way a row of the report.
    const row = provenance.auto.chosen === provenance.strategy ? 'auto' : provenance.strategy;
    const expected = report.results.find((r: { strategy: string }) => r.strategy === row).runs[0].cold;
    const { source, target } = syntheticDomains({ users: 300, seed: 1 });
    const split = coldUserSplit(alignDomains(source, target), { seed: 0 });
    const cold = split.test.subset(
      Int32Array.from(Array.from(split.test.users, (u, i) => (split.isCold[u] ? i : -1)).filter((i) => i >= 0)),
    );
    const m = await evaluateRanking(loaded.model as MatrixFactorization, cold, {
      k: 10,
      exclude: Interactions.concat([split.train, split.validation]),
    });
    expect(m.ndcg).toBeCloseTo(expected.ndcg, 6);
    expect(m.recall).toBeCloseTo(expected.recall, 6);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
