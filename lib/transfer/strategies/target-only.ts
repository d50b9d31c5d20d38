/**
 * The baseline every strategy must beat: a model trained on the target alone. Cold users have no
 * target rows, so they get popularity — or, when the split reveals a few of their target rows
 * (coldShots), a closed-form fold-in against the target item vectors.
 */
import { EmbeddingTable } from '../../table';
import { foldIn } from '../fold-in';
import { UserVectorsModel } from '../user-vectors-model';
import { warmVectors, type Strategy } from './strategy';

export const targetOnly: Strategy = {
  name: 'target-only',
  summary: 'MF on the target alone; cold users get fold-in of revealed rows, else popularity',
  async run(ctx) {
    const model = await ctx.targetModel();
    const d = model.dim;
    const { vectors, has } = warmVectors(ctx, model.userEmbedding.table.data, d);
    // Cold users with revealed shots are in the training rows: fold them in instead of using the
    // vectors MF learned from 1–3 rows (the solve uses the final item vectors).
    const cold = Array.from(ctx.split.coldTestUsers).concat(Array.from(ctx.split.coldValidationUsers)).filter((u) => ctx.hasTrainRows[u]);
    if (cold.length) {
      const lists = cold.map((u) => ctx.split.train.itemsOf(u));
      const offsets = new Int32Array(lists.length + 1);
      lists.forEach((l, k) => (offsets[k + 1] = offsets[k] + l.length));
      const indices = new Int32Array(offsets[lists.length]);
      lists.forEach((l, k) => indices.set(l, offsets[k]));
      const folded = foldIn(model.itemEmbedding.table, { offsets, indices });
      cold.forEach((u, k) => vectors.set(folded.subarray(k * d, (k + 1) * d), u * d));
    }
    return new UserVectorsModel(vectors, has, model.itemEmbedding.table, ctx.popularity);
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
