// The lift report's setup: the protocol options (masking, early stopping), target-only being
// popularity for zero-shot cold users, strategies that cannot run, and the few-shot curve.
import {
  Domain,
  formatLiftTable,
  renderLiftReport,
  syntheticDomains,
  transfer,
  type CustomEvaluation,
  type Interactions,
  type Strategy,
  type TransferContext,
} from '../../lib';

const tiny = () => syntheticDomains({ users: 160, sourceItems: 60, targetItems: 50, sourcePerUser: 12, targetPerUser: 12, seed: 5 });
const settings = { dim: 8, epochs: 6, patience: 2, threads: 1 };

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return `${(err as { code?: string }).code} ${(err as Error).message}`;
  }
  return 'no error';
}

/** A strategy that records what the context and the evaluation were given. */
function probe(seen: Array<{ ctx: TransferContext; exclude?: Interactions }>): Strategy {
  return {
    name: 'probe',
    summary: 'records its context',
    async run(ctx) {
      const entry: { ctx: TransferContext; exclude?: Interactions } = { ctx };
      seen.push(entry);
      const model = await ctx.targetModel();
      const evaluation: CustomEvaluation = {
        async evaluate(test, exclude) {
          entry.exclude ??= exclude;
          return { users: new Set(test.users).size, recall: 0, precision: 0, ndcg: 0, hit: 0, mrr: 0 } as never;
        },
        scorer: () => ({ users: model.users, items: model.items, score: (_u, c, out) => out.fill(0, 0, c.length) }),
      };
      return evaluation;
    },
  };
}

describe('protocol options', () => {
  test('maskValidation decides whether test ranking masks validation rows; the report states both options', async () => {
    const { source, target } = tiny();
    for (const maskValidation of [true, false]) {
      const seen: Array<{ ctx: TransferContext; exclude?: Interactions }> = [];
      const report = await transfer(source, target, { seeds: 1, strategies: [probe(seen)], settings, protocol: { maskValidation } });
      const { ctx, exclude } = seen[0]!;
      expect(exclude!.size).toBe(ctx.split.train.size + (maskValidation ? ctx.split.validation.size : 0));
      expect(report.protocol).toEqual({ maskValidation, earlyStopping: 'warm-validation' });
      const header = formatLiftTable(report).split('\n')[0];
      expect(header).toContain(maskValidation ? 'training and validation rows masked' : 'only training rows masked');
      expect(header).toContain("early stopping on warm users' validation rows");
    }
  }, 120_000);

  test('earlyStopping picks the validation rows of the target-only model; a warm split may then drop its validation share', async () => {
    const { source, target } = tiny();
    const seen: Array<{ ctx: TransferContext }> = [];
    const none = await transfer(source, target, {
      seeds: 1,
      strategies: [probe(seen)],
      settings,
      ratios: [0.9, 0, 0.1],
      protocol: { earlyStopping: 'none' },
    });
    expect(seen[0]!.ctx.earlyStoppingValidation).toBeNull();
    expect(seen[0]!.ctx.warmValidation.size).toBe(0);
    expect(formatLiftTable(none)).toContain('a fixed 6 epochs (no early stopping)');
    await transfer(source, target, {
      seeds: 1,
      strategies: [probe(seen)],
      settings,
      coldShots: 1,
      protocol: { earlyStopping: 'cold-validation' },
    });
    const cold = seen[1]!.ctx;
    expect(cold.earlyStoppingValidation).toBe(cold.coldValidation);
    expect(cold.coldValidation.size).toBeGreaterThan(0);
    // Cold-validation users have revealed rows here, so the target model has vectors of theirs.
    for (const u of cold.split.coldValidationUsers) expect(cold.hasTrainRows[u]).toBe(1);

    expect(await failure(transfer(source, target, { ratios: [0.9, 0, 0.1] }))).toMatch(
      /ERR_OUT_OF_RANGE.*'warm-validation'.* for options\.ratios/,
    );
    expect(await failure(transfer(source, target, { protocol: { earlyStopping: 'cold-validation' } }))).toMatch(
      /ERR_OUT_OF_RANGE.*coldShots ≥ 1.* for options\.protocol\.earlyStopping/,
    );
    expect(
      await failure(transfer(source, target, { coldShots: 1, fewShot: [0, 1], protocol: { earlyStopping: 'cold-validation' } })),
    ).toMatch(/options\.protocol\.earlyStopping/);
    expect(await failure(transfer(source, target, { protocol: { earlyStopping: 'test' as never } }))).toMatch(
      /options\.protocol\.earlyStopping/,
    );
    expect(await failure(transfer(source, target, { protocol: { maskValidation: 1 as never } }))).toMatch(
      /ERR_INVALID_ARG_TYPE.*options\.protocol\.maskValidation/,
    );
  }, 120_000);
});

describe('honest baselines', () => {
  test('zero-shot: target-only is popularity on cold users, and the report says so once', async () => {
    const { source, target } = tiny();
    const report = await transfer(source, target, { seeds: 1, strategies: ['mapping-linear'], settings, sampled: { negatives: 20 } });
    expect(report.coldTargetOnlyIsPopularity).toBe(true);
    const cold = (name: string) => report.results.find((r) => r.strategy === name)!.slices.cold.metrics;
    expect(cold('target-only')).toEqual(cold('popularity'));
    const table = formatLiftTable(report);
    expect(table).toMatch(/^target-only += popularity/m);
    expect(table).toContain('target-only on cold users = popularity');
    // Four full-ranking and three sampled cold cells; popularity minus target-only is no difference.
    expect(table.match(/= popularity/g)).toHaveLength(4 + 3 + 1);
    expect(table).toMatch(/^popularity += target-only/m);
    const html = renderLiftReport(report);
    const coldSection = html.split('<section>').find((x) => x.startsWith('<h2>Cold users</h2>'))!;
    expect(coldSection).toContain('popularity = target-only');
    expect(coldSection).not.toMatch(/<td>target-only<\/td>/);
    // With revealed rows the two differ, and both rows stay.
    const shots = await transfer(source, target, { seeds: 1, strategies: ['mapping-linear'], settings, coldShots: 2 });
    expect(shots.coldTargetOnlyIsPopularity).toBe(false);
    expect(formatLiftTable(shots)).not.toContain('= popularity');
  }, 120_000);

  test('content refuses without side features when named, and is skipped (with the reason) from the default list', async () => {
    const { source, target } = tiny();
    const plain = new Domain({ name: 'plain', interactions: target.interactions, users: target.users, items: target.items });
    let started = 0;
    const named = await failure(transfer(source, plain, { seeds: 1, strategies: ['content'], settings, onProgress: () => void started++ }));
    expect(named).toMatch(/^ERR_NO_SIDE_FEATURES The content strategy needs user side features of the target domain "plain"/);
    expect(started).toBe(0); // refused before any training
    // The same check drops it from "every strategy" (run here on a context that trains nothing).
    const all = await transfer(source, plain, { seeds: 1, settings: { ...settings, epochs: 1 } });
    expect(all.skipped).toContainEqual({
      strategy: 'content',
      reason: expect.stringMatching(/^The content strategy needs user side features/),
    });
    expect(all.results.map((r) => r.strategy)).not.toContain('content');
    expect(formatLiftTable(all)).toContain('skipped content: The content strategy needs user side features');
  }, 300_000);
});

describe('few-shot curve', () => {
  test('cold NDCG and HR at each count of revealed rows, on the same users, in JSON, table and HTML', async () => {
    const { source, target } = tiny();
    const report = await transfer(source, target, { seeds: 1, strategies: ['mapping-linear'], settings, fewShot: [3, 0, 1] });
    const curve = report.fewShot!;
    expect(curve.shots).toEqual([0, 1, 3]);
    expect(curve.results.map((r) => r.strategy)).toEqual(['popularity', 'target-only', 'neighbours', 'mapping-linear']);
    const at = (name: string, metric: 'ndcg' | 'hit', p: number) => curve.results.find((r) => r.strategy === name)![metric][p]!.mean;
    // At 0 shots target-only is popularity; with rows revealed it has something of its own.
    expect(at('target-only', 'ndcg', 0)).toBe(at('popularity', 'ndcg', 0));
    expect(at('target-only', 'ndcg', 2)).not.toBe(at('popularity', 'ndcg', 2));
    // The 0-shot point is the main run (coldShots 0) restricted to users with more than 3 target rows;
    // every cold user here has at least 6, so it is the main run's cold NDCG and HR exactly.
    const cold = report.results.find((r) => r.strategy === 'mapping-linear')!.slices.cold;
    expect(curve.users).toBe(cold.users);
    expect(at('mapping-linear', 'ndcg', 0)).toBeCloseTo(cold.metrics.ndcg.mean, 6);
    expect(at('mapping-linear', 'hit', 0)).toBeCloseTo(cold.metrics.hit.mean, 6);
    for (const r of curve.results) for (const x of [...r.ndcg, ...r.hit]) expect(x.mean).toBeGreaterThanOrEqual(0);
    expect(formatLiftTable(report)).toMatch(
      /few-shot: cold users' NDCG@10 and HR@10[\s\S]*NDCG@10 0 shots +NDCG@10 1 shot +NDCG@10 3 shots/,
    );
    const html = renderLiftReport(report);
    expect(html).toContain('<h2>Few-shot cold users</h2>');
    expect(html).toContain('Cold users&#39; NDCG@10 by target rows revealed');
    expect(JSON.parse(JSON.stringify(report)).fewShot.shots).toEqual([0, 1, 3]);

    expect(await failure(transfer(source, target, { fewShot: [-1] }))).toMatch(/ERR_OUT_OF_RANGE.*options\.fewShot/);
    expect(await failure(transfer(source, target, { fewShot: [0], split: { coldUsers: Int32Array.of(1, 2) } }))).toMatch(
      /options\.split.* for options\.fewShot/,
    );
  }, 300_000);
});
