/**
 * Content-to-CF for cold users (DropoutNet-style). When to use: cold users bring content — side
 * features (age, occupation…), text, or their source-domain vector — but no target rows. A network
 * learns to reproduce warm users' target vectors from [target vector with dropout, content]; a cold
 * user is encoded from content alone. Content here is the aligned source vector plus the user side
 * features of the target domain. Without side features the content would be the source vector
 * alone, which makes this a slower mapping-mlp, so the strategy refuses to run.
 */
import { RecbridgeError } from '../../core/errors';
import type { Alignment } from '../align';
import { ContentToCf, featureMatrix, featureWidth, MAX_BAG_VOCABULARY, type ContentToCfOptions } from '../content-to-cf';
import { UserVectorsModel } from '../user-vectors-model';
import { warmVectors, type Strategy } from './strategy';

export function contentToCf(options: ContentToCfOptions = {}): Strategy {
  return {
    name: 'content',
    summary: 'DropoutNet: reproduce target user vectors from [source vector, side features] with preference dropout',
    check: requireSideFeatures,
    async run(ctx) {
      requireSideFeatures(ctx.alignment);
      const [source, target] = await Promise.all([ctx.sourceModel(), ctx.targetModel()]);
      const d = target.dim;
      const n = ctx.alignment.target.numUsers;
      const side = featureMatrix(ctx.alignment.target.userFeatures, n);
      const width = source.dim + (side?.dim ?? 0);
      const content = new Float32Array(n * width);
      ctx.alignment.users.target.forEach((u, k) => {
        const s = ctx.alignment.users.source[k];
        content.set(source.userEmbedding.table.data.subarray(s * source.dim, (s + 1) * source.dim), u * width);
      });
      if (side) for (let u = 0; u < n; u++) content.set(side.values.subarray(u * side.dim, (u + 1) * side.dim), u * width + source.dim);
      const warm: number[] = [];
      for (let u = 0; u < n; u++) if (!ctx.needsTransfer(u)) warm.push(u);
      const model = ContentToCf.fit(target.userEmbedding.table, d, content, width, Int32Array.from(warm), {
        seed: ctx.seed,
        threads: ctx.settings.threads,
        ...options,
      });
      const { vectors, has } = warmVectors(ctx, target.userEmbedding.table.data, d);
      const cold: number[] = [];
      for (let u = 0; u < n; u++) if (ctx.needsTransfer(u) && (ctx.alignment.userToSource[u] >= 0 || side)) cold.push(u);
      const encoded = model.encode(content, Int32Array.from(cold));
      cold.forEach((u, k) => {
        vectors.set(encoded.subarray(k * d, (k + 1) * d), u * d);
        has[u] = 1;
      });
      return new UserVectorsModel(vectors, has, target.itemEmbedding.table, ctx.popularity);
    },
  };
}

function requireSideFeatures(alignment: Alignment): void {
  if (featureWidth(alignment.target.userFeatures) > 0) return;
  const has = alignment.target.userFeatures?.bags;
  throw new RecbridgeError(
    'ERR_NO_SIDE_FEATURES',
    `The content strategy needs user side features of the target domain ${JSON.stringify(alignment.target.name)}` +
      (has ? ` (its feature bag has ${has.vocabulary} ids, more than the ${MAX_BAG_VOCABULARY} content-to-CF takes)` : '') +
      ': give Domain userFeatures (entityFeatures(loadFeatures(...).features); CLI --user-features), or leave content out. ' +
      'Without them its only content is the source vector, which mapping-mlp already maps.',
  );
}
