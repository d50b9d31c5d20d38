/**
 * Embedding mapping (EMCDR-style). When to use: you already have a source model and a target
 * model (perhaps trained by different teams or at different times) and users overlap. A map from
 * source user vectors to target user vectors is learned on aligned warm users — linear (closed-form
 * ridge) or a small MLP — and a cold user gets the mapped image of their source vector.
 */
import { applyLinear, ridge } from '../linalg';
import { SmallNet } from '../small-net';
import { UserVectorsModel } from '../user-vectors-model';
import { alignedPairs, gatherRows, warmVectors, type Strategy } from './strategy';
import { RecbridgeError } from '../../core/errors';
import { rangeError } from '../../core/validate';

export interface MappingOptions {
  /** 'linear' (ridge, default) or 'mlp' (one hidden layer of width 2·dim). */
  kind?: 'linear' | 'mlp';
  /** linear: ridge penalty (default 1); mlp: L2 weight decay (default 1e-4). */
  regularization?: number;
  /** mlp: epochs (default 200) and learning rate (default 1e-3). */
  epochs?: number;
  lr?: number;
}

/** A learned map between two embedding spaces. */
export interface EmbeddingMap {
  readonly inputDim: number;
  readonly outputDim: number;
  apply(x: Float32Array, rows: number): Float32Array;
}

/** Learns y ≈ f(x) from n paired rows. */
export function fitEmbeddingMap(
  x: Float32Array,
  inputDim: number,
  y: Float32Array,
  outputDim: number,
  n: number,
  options: MappingOptions & { seed?: number; threads?: number } = {},
): EmbeddingMap {
  const kind = options.kind ?? 'linear';
  if (kind !== 'linear' && kind !== 'mlp') throw rangeError('options.kind', '"linear" or "mlp"', kind);
  if (!Number.isInteger(inputDim) || inputDim < 1) throw rangeError('inputDim', 'integer ≥ 1', inputDim);
  if (!Number.isInteger(outputDim) || outputDim < 1) throw rangeError('outputDim', 'integer ≥ 1', outputDim);
  if (!Number.isInteger(n) || n < 0) throw rangeError('n', 'integer ≥ 0', n);
  if (n < 2) throw new RecbridgeError('ERR_NO_OVERLAP', `A mapping needs at least 2 paired users with vectors in both domains; found ${n}`);
  if (x.length < n * inputDim || y.length < n * outputDim)
    throw new RecbridgeError('ERR_DIMENSION_MISMATCH', `Expected ${n} × ${inputDim} inputs and ${n} × ${outputDim} outputs`);
  if (kind === 'linear') {
    const w = ridge(x, inputDim, y, outputDim, n, options.regularization ?? 1);
    return { inputDim, outputDim, apply: (input, rows) => applyLinear(input, inputDim, w, outputDim, rows) };
  }
  const net = new SmallNet([inputDim, 2 * inputDim, outputDim], options.seed ?? 0, options.threads);
  net.fitRegression(x, y, n, {
    epochs: options.epochs ?? 200,
    lr: options.lr ?? 1e-3,
    l2: options.regularization ?? 1e-4,
    batch: 64,
    seed: options.seed ?? 0,
  });
  return { inputDim, outputDim, apply: (input, rows) => net.predict(input, rows) };
}

export function mapping(options: MappingOptions = {}): Strategy {
  const kind = options.kind ?? 'linear';
  if (kind !== 'linear' && kind !== 'mlp') throw rangeError('options.kind', '"linear" or "mlp"', kind);
  return {
    name: kind === 'linear' ? 'mapping-linear' : 'mapping-mlp',
    summary: `EMCDR: ${kind} map from source to target user vectors, learned on aligned warm users`,
    async run(ctx) {
      const [source, target] = await Promise.all([ctx.sourceModel(), ctx.targetModel()]);
      const d = target.dim;
      const warm = alignedPairs(ctx, true);
      const map = fitEmbeddingMap(
        gatherRows(source.userEmbedding.table.data, source.dim, warm.source),
        source.dim,
        gatherRows(target.userEmbedding.table.data, d, warm.target),
        d,
        warm.source.length,
        { ...options, seed: ctx.seed, threads: ctx.settings.threads },
      );
      const { vectors, has } = warmVectors(ctx, target.userEmbedding.table.data, d);
      const cold = alignedPairs(ctx, false);
      const mapped = map.apply(gatherRows(source.userEmbedding.table.data, source.dim, cold.source), cold.source.length);
      cold.target.forEach((u, k) => {
        vectors.set(mapped.subarray(k * d, (k + 1) * d), u * d);
        has[u] = 1;
      });
      return new UserVectorsModel(vectors, has, target.itemEmbedding.table, ctx.popularity);
    },
  };
}
