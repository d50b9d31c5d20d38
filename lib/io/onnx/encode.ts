/**
 * encodeWithOnnx: runs an ONNX encoder the user provides (a text or image model exported from
 * PyTorch, say) over n entities in batches and returns one dense vector per entity — the features
 * that content-to-CF transfer feeds into a TwoTower's `dense` input or a content-init plan.
 */
import { access } from 'node:fs/promises';
import { invoke } from '../../core/callback';
import { types } from 'node:util';
import { CorruptFileError } from '../file-errors';

import { AbortError } from '../../core/errors';
import { sharedFloat32 } from '../../core/shared-memory';
import { expectBoolean, expectOptions, expectPositiveInteger, rangeError, typeError } from '../../core/validate';
import { loadOnnxRuntime, type OrtSession, type OrtTensor } from './runtime';

/** One model input for all n entities: row-major data whose first dimension is n. */
export interface EncoderInput {
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
  dims: readonly number[];
}

export interface EncodeWithOnnxOptions {
  /** Entities per session.run. Default 256. */
  batchSize?: number;
  /** Which output holds the vectors. Default: the model's first output. */
  output?: string;
  /**
   * For an output of rank 3 ([batch, tokens, dim], e.g. a transformer's last_hidden_state):
   * 'mean' averages the tokens (weighted by the `maskInput` input when present, as sentence
   * encoders do), 'first' takes the first token (CLS). Rank-2 outputs need none. Default: none.
   */
  pooling?: 'mean' | 'first';
  /** The input that marks real tokens for 'mean' pooling. Default "attention_mask" when given. */
  maskInput?: string;
  /** L2-normalise each vector (zero vectors stay zero). Default false. */
  normalize?: boolean;
  /** onnxruntime intra-op threads. Default: onnxruntime's choice. */
  threads?: number;
  /** Cancels between batches. */
  signal?: AbortSignal;
  /** Called after each batch with the number of entities done. */
  onProgress?: (done: number, total: number) => unknown;
}

export interface EncodedFeatures {
  /** n × dim, row-major, on a SharedArrayBuffer (ready for TwoTower's dense input). */
  values: Float32Array;
  rows: number;
  dim: number;
}

const ORT_TYPE: [(v: unknown) => boolean, string][] = [
  [types.isFloat32Array, 'float32'],
  [types.isFloat64Array, 'float64'],
  [types.isInt32Array, 'int32'],
  [types.isBigInt64Array, 'int64'],
  [types.isUint8Array, 'uint8'],
  [types.isInt8Array, 'int8'],
];

function ortType(data: unknown): string | undefined {
  return ORT_TYPE.find(([is]) => is(data))?.[1];
}

function checkInputs(inputs: Record<string, EncoderInput>, session: OrtSession): number {
  if (inputs === null || typeof inputs !== 'object') throw typeError('inputs', 'object of { data, dims } by input name', inputs);
  const missing = session.inputNames.filter((n) => !(n in inputs));
  if (missing.length)
    throw rangeError(
      'inputs',
      `every model input (${session.inputNames.join(', ')}); missing ${missing.join(', ')}`,
      Object.keys(inputs).join(', '),
    );
  let n = -1;
  for (const [name, input] of Object.entries(inputs)) {
    if (!session.inputNames.includes(name))
      throw rangeError(`inputs.${name}`, `one of the model's inputs (${session.inputNames.join(', ')})`, name);
    if (!input || typeof input !== 'object' || !ortType(input.data))
      throw typeError(`inputs.${name}.data`, 'Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array or Int8Array', input?.data);
    if (!Array.isArray(input.dims) || input.dims.length === 0 || !input.dims.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw typeError(`inputs.${name}.dims`, 'non-empty array of sizes', input.dims);
    const size = input.dims.reduce((a, b) => a * b, 1);
    if (input.data.length !== size)
      throw rangeError(`inputs.${name}.data`, `${size} values for dims [${input.dims.join(', ')}]`, input.data);
    if (n >= 0 && input.dims[0] !== n)
      throw rangeError(`inputs.${name}.dims[0]`, `${n} (the same number of entities as the other inputs)`, input.dims[0]);
    n = input.dims[0];
  }
  return n;
}

/** Rows [from, to) of an input as a tensor; Int32Array data goes in as int64 when the model wants int64. */
function slice(
  ort: ReturnType<typeof loadOnnxRuntime>,
  input: EncoderInput,
  from: number,
  to: number,
  want: string | undefined,
): OrtTensor {
  const row = input.dims.slice(1).reduce((a, b) => a * b, 1);
  let data: EncoderInput['data'] = input.data.subarray(from * row, to * row);
  if (want === 'int64' && types.isInt32Array(data)) data = BigInt64Array.from(data, (x) => BigInt(x));
  return new ort.Tensor(want === 'int64' && types.isBigInt64Array(data) ? 'int64' : ortType(data)!, data, [
    to - from,
    ...input.dims.slice(1),
  ]);
}

export async function encodeWithOnnx(
  model: string | Uint8Array,
  inputs: Record<string, EncoderInput>,
  options?: EncodeWithOnnxOptions,
): Promise<EncodedFeatures> {
  if (typeof model !== 'string' && !types.isUint8Array(model))
    throw typeError('model', 'path to an .onnx file or its bytes (Uint8Array)', model);
  const o = expectOptions('options', options);
  const batchSize = o.batchSize === undefined ? 256 : expectPositiveInteger('options.batchSize', o.batchSize, 1 << 20);
  const normalize = o.normalize === undefined ? false : expectBoolean('options.normalize', o.normalize);
  if (o.pooling !== undefined && o.pooling !== 'mean' && o.pooling !== 'first')
    throw rangeError('options.pooling', '"mean" or "first"', o.pooling);
  const threads = o.threads === undefined ? undefined : expectPositiveInteger('options.threads', o.threads, 256);
  const ort = loadOnnxRuntime('encodeWithOnnx');
  // A missing file is the system's ENOENT, naming the path, like every other loader's.
  if (typeof model === 'string') await access(model);
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      ...(threads ? { intraOpNumThreads: threads } : {}),
    });
  } catch (err) {
    // onnxruntime reports a damaged protobuf and an unsupported operator alike as an uncoded Error.
    throw new CorruptFileError(
      typeof model === 'string' ? model : `the ${model.byteLength}-byte model`,
      `onnxruntime cannot load it as an ONNX model (${(err as Error)?.message ?? String(err)})`,
      { cause: err },
    );
  }
  try {
    const n = checkInputs(inputs, session);
    const output = o.output ?? session.outputNames[0];
    if (!session.outputNames.includes(output))
      throw rangeError('options.output', `one of the model's outputs (${session.outputNames.join(', ')})`, output);
    const maskName = o.maskInput ?? (inputs.attention_mask ? 'attention_mask' : undefined);
    if (maskName !== undefined && !inputs[maskName]) throw rangeError('options.maskInput', 'the name of a given input', maskName);
    const wanted = new Map((session.inputMetadata ?? []).map((m) => [m.name, m.type]));
    let values: Float32Array | null = null;
    let dim = 0;
    for (let from = 0; from < n; from += batchSize) {
      if (o.signal?.aborted) throw new AbortError('encodeWithOnnx was aborted', { cause: o.signal.reason });
      const to = Math.min(n, from + batchSize);
      const feeds: Record<string, OrtTensor> = {};
      for (const [name, input] of Object.entries(inputs)) feeds[name] = slice(ort, input, from, to, wanted.get(name));
      const result = (await session.run(feeds))[output];
      const rows = pool(result, to - from, o.pooling, maskName ? inputs[maskName] : undefined, from, output);
      if (values === null) {
        dim = rows.length / (to - from);
        values = sharedFloat32(n * dim);
      } else if (rows.length !== (to - from) * dim) {
        throw rangeError(`output ${output}`, `${dim} values per entity in every batch`, rows.length / (to - from));
      }
      values.set(rows, from * dim);
      await invoke(o.onProgress, to, n);
    }
    values ??= sharedFloat32(0);
    if (normalize) {
      for (let r = 0; r < n; r++) {
        const v = values.subarray(r * dim, (r + 1) * dim);
        let s = 0;
        for (const x of v) s += x * x;
        if (s > 0) {
          const inv = 1 / Math.sqrt(s);
          for (let k = 0; k < dim; k++) v[k] *= inv;
        }
      }
    }
    return { values, rows: n, dim };
  } finally {
    await session.release();
  }
}

/** A batch's output as [batch × dim] float32 values. */
function pool(
  t: OrtTensor,
  batch: number,
  pooling: 'mean' | 'first' | undefined,
  mask: EncoderInput | undefined,
  from: number,
  name: string,
): Float32Array {
  const data = t.data as ArrayLike<number>;
  if (t.type !== 'float32' && t.type !== 'float64') throw rangeError(`output ${name}`, 'a float tensor', t.type);
  // The first dimension must be this batch's entities: a model that answers [1, d] or [2b, d] would
  // otherwise have its rows glued across entities.
  if (t.dims.length >= 1 && t.dims[0] !== batch)
    throw rangeError(`output ${name}`, `dims starting with the batch size ${batch} (one row per entity)`, `dims [${t.dims.join(', ')}]`);
  const f = Float32Array.from(data as ArrayLike<number>);
  if (f.length !== t.dims.reduce((a, b) => a * b, 1))
    throw rangeError(
      `output ${name}`,
      `${t.dims.reduce((a, b) => a * b, 1)} values (its dims [${t.dims.join(', ')}])`,
      `${f.length} values`,
    );
  for (let i = 0; i < f.length; i++)
    if (!Number.isFinite(f[i]!))
      throw rangeError(`output ${name}`, 'finite values', `${f[i]} at entity ${from + Math.floor(i / Math.max(1, f.length / batch))}`);
  if (t.dims.length === 2) {
    if (pooling)
      throw rangeError('options.pooling', `none: output ${name} already has one vector per entity ([${t.dims.join(', ')}])`, pooling);
    return f;
  }
  if (t.dims.length === 1) return f;
  if (t.dims.length !== 3)
    throw rangeError(`output ${name}`, 'rank 2 ([batch, dim]) or 3 ([batch, tokens, dim])', `dims [${t.dims.join(', ')}]`);
  if (!pooling)
    throw rangeError(
      'options.pooling',
      `"mean" or "first" to turn output ${name} [${t.dims.join(', ')}] into one vector per entity`,
      pooling,
    );
  const [, tokens, dim] = t.dims;
  if (pooling === 'mean' && mask && (mask.dims.length !== 2 || mask.dims[1] !== tokens)) {
    throw rangeError(
      'options.maskInput',
      `an input of dims [n, ${tokens}] (one weight per token of output ${name})`,
      `dims [${mask.dims.join(', ')}]`,
    );
  }
  const out = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    if (pooling === 'first') {
      out.set(f.subarray(b * tokens * dim, b * tokens * dim + dim), b * dim);
      continue;
    }
    let weight = 0;
    for (let s = 0; s < tokens; s++) {
      const w = mask ? Number(mask.data[(from + b) * tokens + s]) : 1;
      if (!w) continue;
      weight += w;
      for (let k = 0; k < dim; k++) out[b * dim + k] += w * f[(b * tokens + s) * dim + k];
    }
    if (weight > 0) for (let k = 0; k < dim; k++) out[b * dim + k] /= weight;
  }
  return out;
}
