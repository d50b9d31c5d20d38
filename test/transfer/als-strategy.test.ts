// The `als` transfer strategy: users served by transfer keep the source ALS model's vectors bit for
// bit (a solve with no target rows would only shrink them), and on planted synthetic domains its
// cold users rank well above popularity.
import {
  AlsTrainer,
  TransferContext,
  type UserVectorsModel,
  alignDomains,
  alsTransfer,
  coldUserSplit,
  strategyByName,
  syntheticDomains,
  transfer,
} from '../../lib';

const small = () => syntheticDomains({ users: 300, sourceItems: 120, targetItems: 100, sourcePerUser: 20, targetPerUser: 10, seed: 2 });
const settings = {
  dim: 16,
  epochs: 20,
  patience: 2,
  loss: 'bpr' as const,
  negatives: 4,
  optimizer: { type: 'adagrad' as const, lr: 0.05, l2: 0.01 },
  metric: 'ndcg' as const,
  k: 10,
  threads: 2,
};

test('users served by transfer keep their source ALS vectors bit for bit; warm users are refined', async () => {
  const { source, target } = small();
  const alignment = alignDomains(source, target);
  const ctx = new TransferContext(alignment, coldUserSplit(alignment, { seed: 1 }), settings, 1);
  const options = { alpha: 5, l2: 1, sourceIterations: 6, anchorIterations: 2, refineIterations: 4 };
  const result = (await alsTransfer(options).run(ctx)) as UserVectorsModel;
  // The same source model, trained again: ALS is deterministic for any thread count.
  const sourceModel = ctx.newMf(alignment.source.numUsers, alignment.source.numItems, 1);
  await AlsTrainer.fit(sourceModel, ctx.sourceData, { alpha: 5, l2: 1, iterations: 6, threads: 1 });
  const d = settings.dim;
  let cold = 0;
  let warmMoved = 0;
  alignment.users.source.forEach((s, k) => {
    const t = alignment.users.target[k];
    const got = Buffer.from(result.userVectors.slice(t * d, (t + 1) * d).buffer);
    const src = Buffer.from(sourceModel.userEmbedding.table.data.slice(s * d, (s + 1) * d).buffer);
    if (ctx.needsTransfer(t)) {
      expect(got.equals(src)).toBe(true);
      cold++;
    } else if (!got.equals(src)) warmMoved++;
  });
  expect(cold).toBeGreaterThan(0);
  expect(warmMoved).toBeGreaterThan(0);
  expect(strategyByName('als')?.name).toBe('als');
});

test('cold users rank well above popularity on planted domains', async () => {
  const { source, target } = small();
  const report = await transfer(source, target, { seeds: 1, strategies: ['als'], settings });
  const als = report.results.find((r) => r.strategy === 'als')!;
  const popularity = report.results.find((r) => r.strategy === 'popularity')!;
  expect(als.slices.cold.metrics.ndcg.mean).toBeGreaterThan(popularity.slices.cold.metrics.ndcg.mean + 0.05);
});
