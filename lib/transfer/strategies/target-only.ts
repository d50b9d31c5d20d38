/**
 * The baseline every strategy must beat: a model trained on the target alone. Cold users have no
 * target rows, so they get popularity — or, when the split reveals a few of their target rows
 * (coldShots), a closed-form fold-in against the target item vectors.
 */
import { EmbeddingTable } from '../../core/table';
import { foldIn, historiesFrom } from '../fold-in';
import { UserVectorsModel } from '../user-vectors-model';
import { warmVectors, type Strategy } from './strategy';

export const targetOnly: Strategy = {
  name: 'target-only',
  summary: 'MF on the target alone; cold users get their few-shot vectors or a fold-in (chosen on validation), else popularity',
  async run(ctx) {
    const model = await ctx.targetModel();
    const d = model.dim;
    const users = model.userEmbedding.table.data;
    const { vectors, has } = warmVectors(ctx, users, d);
    // Cold users with revealed shots are in the training rows. Their MF vectors learned from 1–3
    // rows; a closed-form fold-in against the final item vectors is the alternative. Validation
    // (cold-validation users) picks one of the two.
    const cold = Array.from(ctx.split.coldTestUsers)
      .concat(Array.from(ctx.split.coldValidationUsers))
      .filter((u) => ctx.hasTrainRows[u]);
    if (!cold.length) return new UserVectorsModel(vectors, has, model.itemEmbedding.table, ctx.popularity);
    const folded = foldIn(model.itemEmbedding.table, historiesFrom(cold.map((u) => ctx.split.train.itemsOf(u))));
    const withVectors = (pick: (u: number, k: number) => Float32Array) => {
      const v = vectors.slice();
      const h = has.slice();
      cold.forEach((u, k) => {
        v.set(pick(u, k), u * d);
        h[u] = 1;
      });
      return new UserVectorsModel(v, h, model.itemEmbedding.table, ctx.popularity);
    };
    const shots = withVectors((u) => users.subarray(u * d, (u + 1) * d));
    const foldedIn = withVectors((_, k) => folded.subarray(k * d, (k + 1) * d));
    if (ctx.coldValidation.size === 0) return shots;
    const metric = ctx.settings.metric;
    const [a, b] = [await ctx.validate(shots, ctx.coldValidation), await ctx.validate(foldedIn, ctx.coldValidation)];
    return b[metric] > a[metric] ? foldedIn : shots;
  },
};

export const popularity: Strategy = {
  name: 'popularity',
  summary: 'most popular target items (training rows) for everyone',
  async run(ctx) {
    const n = ctx.alignment.target.numUsers;
    const items = ctx.alignment.target.numItems;
    return new UserVectorsModel(new Float32Array(n), new Uint8Array(n), EmbeddingTable.create(items, 1), ctx.popularity);
  },
};
