import { evaluationReport, pairedComparisons, printTable } from '../../lib/commands/evaluate-output';
import type { EvaluateResult, ModelRun } from '../../lib/commands/evaluate-result';
import { uniformGenerator } from '../../lib/core/random';
import { Interactions } from '../../lib/data/interactions';
import { PopularityModel, RandomModel } from '../../lib/eval/baselines';
import { pairedBootstrap } from '../../lib/eval/paired-bootstrap';
import { evaluateSlices, type RankingModel } from '../../lib/eval/ranking';
import { summarize } from '../../lib/eval/summarize';
import { MatrixFactorization } from '../../lib/models/matrix-factorization';
import { Trainer, type FitReport } from '../../lib/train/trainer';
import { failure } from '../support/errors';

const USERS = 60;
const ITEMS = 40;

// Two communities, each preferring its half of the items; one seeded split per seed.
function split(seed: number): { train: Interactions; test: Interactions } {
  const rand = uniformGenerator(100 + seed);
  const train: Array<[number, number]> = [];
  const test: Array<[number, number]> = [];
  for (let u = 0; u < USERS; u++) {
    const picked = new Set<number>();
    while (picked.size < 10) picked.add((u % 2) * 20 + Math.floor(rand() * 20));
    [...picked].forEach((i, j) => (j < 2 ? test : train).push([u, i]));
  }
  return {
    train: Interactions.fromPairs(train, { numUsers: USERS, numItems: ITEMS }),
    test: Interactions.fromPairs(test, { numUsers: USERS, numItems: ITEMS }),
  };
}

async function evaluated(
  perUser: boolean,
  seeds = 3,
): Promise<{ result: EvaluateResult; logs: { model: string; seed: number; report: FitReport }[] }> {
  const runs: Record<string, ModelRun[]> = { pop: [], random: [], bpr: [] };
  const logs: { model: string; seed: number; report: FitReport }[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const { train, test } = split(seed);
    const mf = new MatrixFactorization({ users: USERS, items: ITEMS, dim: 8, seed });
    const report = await Trainer.fit(mf, train, {
      epochs: 12,
      seed,
      threads: 1,
      validation: { data: test, metric: 'mrr', k: 10, patience: 3, restoreBest: true },
    });
    logs.push({ model: 'bpr', seed, report });
    const models: Record<string, RankingModel> = {
      pop: PopularityModel.fit(train),
      random: new RandomModel({ users: USERS, items: ITEMS, seed }),
      bpr: mf,
    };
    for (const [name, model] of Object.entries(models)) {
      const e = await evaluateSlices(model, test, { slices: {}, ks: [5, 10], exclude: train, threads: 1, perUser });
      runs[name]!.push({ seed, all: e.all, slices: e.slices });
    }
  }
  const result: EvaluateResult = {
    dataset: 'two communities',
    protocol: 'per-user split',
    users: USERS,
    items: ITEMS,
    ks: [5, 10],
    seeds: Array.from({ length: seeds }, (_, i) => i),
    slices: {},
    models: Object.fromEntries(
      Object.entries(runs).map(([m, r]) => [m, { runs: r, summary: summarize(r.map(({ seed: _seed, ...rest }) => rest)).summary }]),
    ),
  };
  return { result, logs };
}

describe('evaluate output: paired differences and learning curves', () => {
  test('each model minus pop, paired over the same users: the gap of the means, with intervals, verdicts and a chart', async () => {
    const { result, logs } = await evaluated(true);
    const rows = pairedComparisons(result)!;
    expect(rows.map((r) => [r.model, r.baseline, r.k])).toEqual([
      ['random', 'pop', 10],
      ['bpr', 'pop', 10],
    ]);
    const bpr = rows[1]!;
    const gap = (m: string, metric: 'ndcg' | 'recall') =>
      (result.models[m]!.summary as { all: { byK: Record<number, Record<string, { mean: number }>> } }).all.byK[10]![metric]!.mean;
    expect(bpr.metrics.ndcg.mean).toBeCloseTo(gap('bpr', 'ndcg') - gap('pop', 'ndcg'), 6);
    expect(bpr.metrics.recall.mean).toBeCloseTo(gap('bpr', 'recall') - gap('pop', 'recall'), 6);
    // The same numbers as pairedBootstrap on the runs' per-user metrics.
    const side = (m: string) => result.models[m]!.runs.map((r) => ({ users: r.all.perUser!.users, values: r.all.perUser!.byK[10].ndcg }));
    const direct = pairedBootstrap(side('random'), side('pop'));
    expect(rows[0]!.metrics.ndcg.mean).toBeCloseTo(direct.mean, 9);
    expect(rows[0]!.metrics.ndcg.perSeed).toHaveLength(3);
    for (const r of rows)
      for (const d of Object.values(r.metrics)) expect(d.verdict).toBe(d.low > 0 ? 'better' : d.high < 0 ? 'worse' : 'no clear difference');
    // Another baseline and cut-off on request.
    expect(pairedComparisons(result, { baseline: 'random', k: 5 })!.map((r) => [r.model, r.k])).toEqual([
      ['pop', 5],
      ['bpr', 5],
    ]);

    const table = printTable(result);
    expect(table).toMatch(/minus pop @10 +ndcg/);
    expect(table).toMatch(/\nbpr +[+−]\d\.\d{4} \[[+−]\d\.\d{4}, [+−]\d\.\d{4}\], p /);
    const html = evaluationReport(result, logs);
    expect(html).toContain('<h2>Paired differences (minus pop)</h2>');
    expect(html).toContain('Each model minus pop at K = 10');
    expect(html.match(/<path class="interval"/g)).toHaveLength(2 * 4);
  });

  test('learning curves mark every run’s best epoch', async () => {
    const { result, logs } = await evaluated(false, 2);
    const html = evaluationReport(result, logs);
    const curves = html.slice(html.indexOf('<h2>Learning curves</h2>'));
    const charts = curves.match(/<svg[\s\S]*?<\/svg>/g)!;
    expect(charts).toHaveLength(2);
    for (const chart of charts) {
      expect(chart.match(/<path class="mark"/g)).toHaveLength(2);
      for (const l of logs) expect(chart).toContain(`bpr seed ${l.seed}: best epoch at ${l.report.bestEpoch}`);
    }
  }, 60_000);

  test('without per-user metrics, or with one model, there is nothing to pair', async () => {
    const { result, logs } = await evaluated(false, 1);
    expect(pairedComparisons(result)).toBeNull();
    expect(evaluationReport(result, logs)).not.toContain('Paired differences');
    expect(printTable(result)).not.toContain('minus pop');
    const withUsers = (await evaluated(true, 1)).result;
    // Read back from JSON, the per-user arrays are gone: nothing to pair, and no error.
    const strip = (_key: string, value: unknown) => (ArrayBuffer.isView(value) ? undefined : value);
    expect(pairedComparisons(JSON.parse(JSON.stringify(withUsers, strip)))).toBeNull();
    const one = { ...withUsers, models: { pop: withUsers.models.pop! } };
    expect(pairedComparisons(one)).toBeNull();
    // One seed: the numbers are shown, with no verdict.
    expect(pairedComparisons(withUsers)![0]!.metrics.ndcg.verdict).toBe('too few seeds');
  }, 60_000);

  test('bad options and mismatched runs are typed errors', async () => {
    const { result } = await evaluated(true, 2);
    expect(failure(() => pairedComparisons(result, { baseline: 'svd' }))).toMatch(
      /ERR_OUT_OF_RANGE.*one of pop, random, bpr for options\.baseline/,
    );
    expect(failure(() => pairedComparisons(result, { k: 20 }))).toMatch(/ERR_OUT_OF_RANGE.*options\.k/);
    expect(failure(() => pairedComparisons(result, { resamples: 3 }))).toMatch(/options\.resamples/);
    const shuffled = {
      ...result,
      models: { ...result.models, random: { ...result.models.random!, runs: [...result.models.random!.runs].reverse() } },
    };
    expect(failure(() => pairedComparisons(shuffled))).toMatch(/ERR_OUT_OF_RANGE.*result\.models\.random\.runs/);
  }, 60_000);
});
