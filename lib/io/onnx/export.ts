/**
 * ONNX files of a model's parts, written atomically: a tower (entity → vector) and a scoring graph
 * (query vector → top-K items), so that a model trained here can be served by any ONNX runtime.
 */
import type { MatrixFactorization } from '../../models/matrix-factorization';
import type { TwoTower } from '../../models/two-tower';
import { expectOptions, expectPositiveInteger, rangeError, typeError } from '../../core/validate';
import { writeFileAtomic } from '../../core/atomic-write';
import { modelKind } from '../model-file/model-tensors';
import { buildScoringModel } from './model';
import { buildTowerModel } from './tower-model';

export interface ExportOnnxOptions {
  /**
   * 'user-tower', 'item-tower' (see buildTowerModel for inputs and outputs) or 'scoring': input
   * `query` float [batch, dim] (a user tower's output), outputs `values` and `indices` [batch, K]
   * over every item's vector. Default 'item-tower'.
   */
  part?: 'user-tower' | 'item-tower' | 'scoring';
  /** Results per query of the scoring graph. Default 10. */
  k?: number;
}

/**
 * An ONNX file is one protobuf message, and protobuf parsers (onnxruntime's included) refuse messages
 * of 2 GiB or more; the margin leaves room for the graph around the weights.
 */
export const ONNX_MAX_WEIGHT_BYTES = 2 ** 31 - 2 ** 24;

/** Refuses, before building anything, a part whose weights would make a file no runtime can read. */
export function checkOnnxSize(part: string, weightBytes: number): void {
  if (weightBytes <= ONNX_MAX_WEIGHT_BYTES) return;
  throw rangeError(
    'model',
    `at most ${(ONNX_MAX_WEIGHT_BYTES / 2 ** 30).toFixed(2)} GiB of weights in the ${part} ONNX file (protobuf's 2 GiB message limit); export the vectors with writeNpy or exportVectors instead, or serve the model with Recommender`,
    `${(weightBytes / 2 ** 30).toFixed(2)} GiB`,
  );
}

async function writeBytes(path: string, bytes: Uint8Array): Promise<number> {
  return writeFileAtomic(path, (sink) => sink.write(bytes));
}

/** Writes one part of the model as an ONNX file; returns its size in bytes. */
export async function exportOnnx(path: string, model: MatrixFactorization | TwoTower, options?: ExportOnnxOptions): Promise<number> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const kind = modelKind(model);
  const o = expectOptions('options', options);
  const part = o.part ?? 'item-tower';
  if (part === 'user-tower' || part === 'item-tower') {
    const side = part === 'user-tower' ? 'user.' : 'item.';
    checkOnnxSize(
      part,
      model.parameters().reduce((sum, p) => sum + (p.name.startsWith(side) ? p.table.data.byteLength : 0), 0),
    );
    return writeBytes(path, buildTowerModel(model, part === 'user-tower' ? 'user' : 'item'));
  }
  if (part !== 'scoring') throw rangeError('options.part', '"user-tower", "item-tower" or "scoring"', part);
  const k = o.k === undefined ? 10 : expectPositiveInteger('options.k', o.k);
  const release = model.acquire('exportOnnx');
  try {
    const items = kind === 'two-tower' ? await (model as TwoTower).encode('item', 1) : (model as MatrixFactorization).encodeItems();
    checkOnnxSize(part, items.data.byteLength);
    return writeBytes(path, buildScoringModel({ items: items.data, rows: items.rows, dim: items.dim, k }));
  } finally {
    release();
  }
}
