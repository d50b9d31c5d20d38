/**
 * Content-to-CF (DropoutNet-style): a network that reproduces pre-trained preference vectors from
 * content — side features, text embeddings (precomputed, or made by an ONNX encoder through
 * encodeWithOnnx), or another domain's vectors. Its input is [preference vector, content]; during
 * training the preference part is zeroed for a random share of rows (preference dropout), so the
 * same network serves warm entities (preference given) and brand-new ones (zeros + content).
 */
import { resolveThreads } from '../core/config';
import { RecbridgeError } from '../core/errors';
import { EmbeddingTable } from '../core/table';
import { expectFloat32Array, expectInteger, expectOptions, rangeError, typeError } from '../core/validate';
import type { EntityFeatures } from './domain';
import { SmallNet } from './small-net';

export interface ContentToCfOptions {
  /** Hidden width. Default 2 × preference width. */
  hidden?: number;
  /** Share of training rows whose preference input is zeroed. Default 0.5. */
  dropout?: number;
  /** Epochs (default 100), Adam learning rate (default 1e-3), L2 (default 1e-5), batch (default 64), seed. */
  epochs?: number;
  lr?: number;
  l2?: number;
  batch?: number;
  seed?: number;
  /** Native threads for training and encoding. Default: configure().threads. */
  threads?: number;
}

export class ContentToCf {
  private constructor(
    private readonly net: SmallNet,
    /** Preference width. */
    readonly dim: number,
    /** Content width. */
    readonly contentDim: number,
    private readonly mean: Float32Array,
    private readonly scale: Float32Array,
  ) {}

  /**
   * Learns to reproduce `preference` rows (n × dim) of the `rows` listed, from `content` (n × contentDim,
   * for the same n entities).
   */
  static fit(
    preference: EmbeddingTable | Float32Array,
    dim: number,
    content: Float32Array,
    contentDim: number,
    rows: Int32Array,
    options?: ContentToCfOptions,
  ): ContentToCf {
    if (preference instanceof EmbeddingTable && preference.dim !== dim) {
      throw new RecbridgeError('ERR_DIMENSION_MISMATCH', `preference is a table of width ${preference.dim} but dim is ${dim}`);
    }
    const pref = preference instanceof EmbeddingTable ? preference.data : expectFloat32Array('preference', preference);
    const o = expectOptions('options', options);
    if (!Number.isInteger(dim) || dim < 1) throw rangeError('dim', 'integer ≥ 1', dim);
    if (!Number.isInteger(contentDim) || contentDim < 1) throw rangeError('contentDim', 'integer ≥ 1', contentDim);
    expectFloat32Array('content', content);
    const hidden = o.hidden === undefined ? 2 * dim : expectInteger('options.hidden', o.hidden, 1, 1 << 16);
    const lr = o.lr ?? 1e-3;
    if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) throw rangeError('options.lr', 'finite number > 0', lr);
    const epochs = o.epochs === undefined ? 100 : expectInteger('options.epochs', o.epochs, 1, 1_000_000);
    const l2 = o.l2 ?? 1e-5;
    if (typeof l2 !== 'number' || !(l2 >= 0) || !Number.isFinite(l2)) throw rangeError('options.l2', 'finite number ≥ 0', l2);
    const batch = o.batch === undefined ? 64 : expectInteger('options.batch', o.batch, 1, 1 << 20);
    const dropout = o.dropout ?? 0.5;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) throw rangeError('options.dropout', 'number in [0, 1]', dropout);
    if (rows.length < 2)
      throw new RecbridgeError(
        'ERR_NO_OVERLAP',
        `Content-to-CF needs at least 2 entities with both a preference vector and content; found ${rows.length}`,
      );
    const entities = content.length / contentDim;
    if (!Number.isInteger(entities) || pref.length / dim < entities) {
      throw new RecbridgeError(
        'ERR_DIMENSION_MISMATCH',
        `content holds ${content.length / contentDim} rows of ${contentDim} but preference ${pref.length / dim} rows of ${dim}`,
      );
    }
    checkRows('rows', rows, entities);
    // Standardise content columns on the training rows: features arrive on any scale.
    const mean = new Float32Array(contentDim);
    const scale = new Float32Array(contentDim).fill(1);
    for (const r of rows) for (let c = 0; c < contentDim; c++) mean[c] += content[r * contentDim + c] / rows.length;
    const variance = new Float32Array(contentDim);
    for (const r of rows) for (let c = 0; c < contentDim; c++) variance[c] += (content[r * contentDim + c] - mean[c]) ** 2 / rows.length;
    for (let c = 0; c < contentDim; c++) scale[c] = variance[c] > 1e-12 ? 1 / Math.sqrt(variance[c]) : 1;
    const threads = resolveThreads('options.threads', o.threads);
    const net = new SmallNet([dim + contentDim, hidden, dim], o.seed ?? 0, threads);
    const model = new ContentToCf(net, dim, contentDim, mean, scale);
    const x = model.inputs(content, rows, pref);
    const y = new Float32Array(rows.length * dim);
    rows.forEach((r, k) => y.set(pref.subarray(r * dim, (r + 1) * dim), k * dim));
    const width = dim + contentDim;
    // Held-out rows are scored as cold entities (no preference input): the case that matters.
    const cold = (batch: Float32Array, n: number) => {
      for (let k = 0; k < n; k++) batch.fill(0, k * width, k * width + dim);
    };
    net.fitRegression(x, y, rows.length, {
      epochs,
      lr,
      l2,
      batch,
      seed: o.seed ?? 0,
      heldOutTransform: cold,
      dropout: { cols: dim, p: dropout },
    });
    return model;
  }

  /**
   * Vectors for the listed entities from their content; with `preference` (same row numbering)
   * their known vectors are fed too (warm entities), else zeros (cold ones).
   */
  encode(content: Float32Array, rows: Int32Array, preference?: Float32Array): Float32Array {
    expectFloat32Array('content', content);
    if (content.length % this.contentDim !== 0)
      throw new RecbridgeError(
        'ERR_DIMENSION_MISMATCH',
        `content must hold rows of ${this.contentDim} values (it holds ${content.length})`,
      );
    const entities = content.length / this.contentDim;
    checkRows('rows', rows, entities);
    if (preference !== undefined && expectFloat32Array('preference', preference).length < entities * this.dim) {
      throw new RecbridgeError('ERR_DIMENSION_MISMATCH', `preference must hold ${entities} rows of ${this.dim}`);
    }
    return this.net.predict(this.inputs(content, rows, preference ?? null), rows.length);
  }

  private inputs(content: Float32Array, rows: Int32Array, pref: Float32Array | null): Float32Array {
    const { dim, contentDim } = this;
    const width = dim + contentDim;
    const x = new Float32Array(rows.length * width);
    rows.forEach((r, k) => {
      if (pref) x.set(pref.subarray(r * dim, (r + 1) * dim), k * width);
      for (let c = 0; c < contentDim; c++) x[k * width + dim + c] = (content[r * contentDim + c] - this.mean[c]) * this.scale[c];
    });
    return x;
  }
}

/** Largest bag vocabulary featureMatrix turns into a multi-hot (larger bags are left out). */
export const MAX_BAG_VOCABULARY = 4096;

/** The width of featureMatrix's rows for these features (0: nothing usable). */
export function featureWidth(features: EntityFeatures | null, maxVocabulary = MAX_BAG_VOCABULARY): number {
  if (!features) return 0;
  const bags = features.bags && features.bags.vocabulary <= maxVocabulary ? features.bags : null;
  return (features.dense?.dim ?? 0) + (bags?.vocabulary ?? 0);
}

/**
 * Side features as one dense matrix (entities × width): the dense vector as is, then the bag as a
 * normalised multi-hot (for vocabularies up to `maxVocabulary`; larger bags are left out).
 */
export function featureMatrix(
  features: EntityFeatures | null,
  entities: number,
  maxVocabulary = MAX_BAG_VOCABULARY,
): { values: Float32Array; dim: number } | null {
  const dim = featureWidth(features, maxVocabulary);
  if (!features || dim === 0) return null;
  const dense = features.dense ?? null;
  const bags = features.bags && features.bags.vocabulary <= maxVocabulary ? features.bags : null;
  const values = new Float32Array(entities * dim);
  for (let e = 0; e < entities; e++) {
    if (dense) values.set(dense.values.subarray(e * dense.dim, (e + 1) * dense.dim), e * dim);
    if (bags) {
      const begin = bags.offsets[e];
      const end = bags.offsets[e + 1];
      for (let k = begin; k < end; k++) values[e * dim + (dense?.dim ?? 0) + bags.indices[k]] += 1 / (end - begin);
    }
  }
  return { values, dim };
}

function checkRows(argument: string, rows: Int32Array, entities: number): void {
  if (!(rows instanceof Int32Array)) throw typeError(argument, 'Int32Array of entity rows', rows);
  for (let k = 0; k < rows.length; k++)
    if (rows[k] < 0 || rows[k] >= entities) throw rangeError(`${argument}[${k}]`, `a row in [0, ${entities})`, rows[k]);
}
