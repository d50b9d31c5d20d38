/**
 * ONNX models of recbridge's towers: what encodeUsers()/encodeItems() compute for a batch of
 * entities, as a graph other runtimes can serve.
 *
 * Two-tower inputs (only those the tower has):
 *   ids           int64 [batch]        entity rows (id embedding)
 *   feature_ids   int64 [batch, bag]   feature rows, padded to the longest bag (pad with any valid row)
 *   feature_mask  float [batch, bag]   1 for a real feature, 0 for padding (mean pooling divides by its sum)
 *   dense         float [batch, dim]   dense features
 * Output: embedding float [batch, outputDim] — id embedding + mean of the bag + projected dense
 * features, then the MLP (ReLU between layers), then L2 normalisation for cosine models.
 *
 * Matrix factorization: input ids, output the row of encodeUsers() / encodeItems() (with item
 * biases: the user vector with a trailing 1 and the item vector with its bias, as in userQuery()).
 */
import { MatrixFactorization } from '../../models/matrix-factorization';
import type { TwoTower } from '../../models/two-tower';
import { rangeError, typeError } from '../../core/validate';
import { DataType, encodeModel, transpose, type Node, type Tensor, type ValueInfo } from './model';

export type TowerSide = 'user' | 'item';

/** Normalisation floor, the same as the native kernels' (two_tower.cpp kMinNorm). */
const MIN_NORM = 1e-12;

const axes = (name: string, values: number[]): Tensor => ({ name, dims: [values.length], values: BigInt64Array.from(values.map(BigInt)) });

function mfTower(model: MatrixFactorization, side: TowerSide): Uint8Array {
  const d = model.dim;
  const withBias = model.itemBias !== null;
  const rows = side === 'user' ? model.users : model.items;
  const width = withBias ? d + 1 : d;
  const source = side === 'user' ? model.userEmbedding.table.data : model.itemEmbedding.table.data;
  const table = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    table.set(source.subarray(r * d, (r + 1) * d), r * width);
    if (withBias) table[r * width + d] = side === 'user' ? 1 : model.itemBias!.table.data[r];
  }
  return encodeModel({
    docString: `recbridge matrix factorization ${side} vectors (${rows} × ${width}).`,
    graph: {
      name: `recbridge_mf_${side}`,
      inputs: [{ name: 'ids', elemType: DataType.INT64, shape: ['batch'] }],
      outputs: [{ name: 'embedding', elemType: DataType.FLOAT, shape: ['batch', width] }],
      initializers: [{ name: 'table', dims: [rows, width], values: table }],
      nodes: [
        {
          opType: 'Gather',
          name: 'lookup',
          inputs: ['table', 'ids'],
          outputs: ['embedding'],
          attributes: [{ name: 'axis', type: 'int', value: 0 }],
        },
      ],
    },
  });
}

function twoTower(model: TwoTower, side: TowerSide): Uint8Array {
  const c = model.config()[side];
  const d = model.dim;
  const inputs: ValueInfo[] = [];
  const initializers: Tensor[] = [];
  const nodes: Node[] = [];
  const parts: string[] = [];
  const data = (name: string) => model.parameter(name).table;
  if (c.idEmbedding !== false) {
    inputs.push({ name: 'ids', elemType: DataType.INT64, shape: ['batch'] });
    const t = data(`${side}.embedding`);
    initializers.push({ name: 'id_table', dims: [t.rows, d], values: t.data });
    nodes.push({
      opType: 'Gather',
      name: 'id_lookup',
      inputs: ['id_table', 'ids'],
      outputs: ['id_part'],
      attributes: [{ name: 'axis', type: 'int', value: 0 }],
    });
    parts.push('id_part');
  }
  if (c.features) {
    inputs.push(
      { name: 'feature_ids', elemType: DataType.INT64, shape: ['batch', 'bag'] },
      { name: 'feature_mask', elemType: DataType.FLOAT, shape: ['batch', 'bag'] },
    );
    const t = data(`${side}.features.embedding`);
    initializers.push({ name: 'feature_table', dims: [t.rows, d], values: t.data }, axes('axis_last', [-1]), axes('axis_bag', [1]), {
      name: 'one',
      dims: [],
      values: Float32Array.of(1),
    });
    nodes.push(
      {
        opType: 'Gather',
        name: 'feature_lookup',
        inputs: ['feature_table', 'feature_ids'],
        outputs: ['feature_rows'],
        attributes: [{ name: 'axis', type: 'int', value: 0 }],
      },
      { opType: 'Unsqueeze', name: 'mask_column', inputs: ['feature_mask', 'axis_last'], outputs: ['mask3'] },
      { opType: 'Mul', name: 'mask_rows', inputs: ['feature_rows', 'mask3'], outputs: ['masked_rows'] },
      {
        opType: 'ReduceSum',
        name: 'bag_sum',
        inputs: ['masked_rows', 'axis_bag'],
        outputs: ['bag_sum'],
        attributes: [{ name: 'keepdims', type: 'int', value: 0 }],
      },
      {
        opType: 'ReduceSum',
        name: 'bag_count',
        inputs: ['feature_mask', 'axis_bag'],
        outputs: ['bag_count'],
        attributes: [{ name: 'keepdims', type: 'int', value: 1 }],
      },
      // An empty bag has sum 0 and count 0: dividing by max(count, 1) makes it add nothing.
      { opType: 'Max', name: 'bag_count_floor', inputs: ['bag_count', 'one'], outputs: ['bag_divisor'] },
      { opType: 'Div', name: 'bag_mean', inputs: ['bag_sum', 'bag_divisor'], outputs: ['feature_part'] },
    );
    parts.push('feature_part');
  }
  if (c.dense) {
    inputs.push({ name: 'dense', elemType: DataType.FLOAT, shape: ['batch', c.dense.dim] });
    const w = data(`${side}.dense.projection.weight`);
    initializers.push(
      { name: 'dense_wT', dims: [c.dense.dim, d], values: transpose(w.data, d, c.dense.dim) },
      { name: 'dense_b', dims: [d], values: data(`${side}.dense.projection.bias`).data },
    );
    nodes.push(
      { opType: 'MatMul', name: 'dense_proj', inputs: ['dense', 'dense_wT'], outputs: ['dense_mm'] },
      { opType: 'Add', name: 'dense_bias', inputs: ['dense_mm', 'dense_b'], outputs: ['dense_part'] },
    );
    parts.push('dense_part');
  }
  let h = 'h0';
  nodes.push({ opType: 'Sum', name: 'combine', inputs: parts, outputs: [h] });
  const mlp = c.mlp ?? [];
  let width = d;
  mlp.forEach((out, l) => {
    const w = data(`${side}.mlp.${l}.weight`);
    initializers.push(
      { name: `mlp${l}_wT`, dims: [width, out], values: transpose(w.data, out, width) },
      { name: `mlp${l}_b`, dims: [out], values: data(`${side}.mlp.${l}.bias`).data },
    );
    const last = l + 1 === mlp.length;
    nodes.push(
      { opType: 'MatMul', name: `mlp${l}_mm`, inputs: [h, `mlp${l}_wT`], outputs: [`mlp${l}_z`] },
      { opType: 'Add', name: `mlp${l}_add`, inputs: [`mlp${l}_z`, `mlp${l}_b`], outputs: [`mlp${l}_y`] },
    );
    h = `mlp${l}_y`;
    if (!last) {
      nodes.push({ opType: 'Relu', name: `mlp${l}_relu`, inputs: [h], outputs: [`mlp${l}_a`] });
      h = `mlp${l}_a`;
    }
    width = out;
  });
  if (model.similarity === 'cosine') {
    initializers.push(axes('norm_axis', [-1]), { name: 'min_norm', dims: [], values: Float32Array.of(MIN_NORM) });
    nodes.push(
      { opType: 'Mul', name: 'square', inputs: [h, h], outputs: ['squares'] },
      {
        opType: 'ReduceSum',
        name: 'sq',
        inputs: ['squares', 'norm_axis'],
        outputs: ['sumsq'],
        attributes: [{ name: 'keepdims', type: 'int', value: 1 }],
      },
      { opType: 'Sqrt', name: 'norm', inputs: ['sumsq'], outputs: ['norm'] },
      { opType: 'Max', name: 'norm_floor', inputs: ['norm', 'min_norm'], outputs: ['norm_safe'] },
      { opType: 'Div', name: 'normalize', inputs: [h, 'norm_safe'], outputs: ['normalized'] },
    );
    h = 'normalized';
  }
  nodes.push({ opType: 'Identity', name: 'output', inputs: [h], outputs: ['embedding'] });
  return encodeModel({
    docString: `recbridge two-tower ${side} tower (${model.similarity}, output width ${width}).`,
    graph: {
      name: `recbridge_two_tower_${side}`,
      inputs,
      outputs: [{ name: 'embedding', elemType: DataType.FLOAT, shape: ['batch', width] }],
      initializers,
      nodes,
    },
  });
}

/** The ONNX model (bytes) of one tower of a MatrixFactorization or TwoTower model. */
export function buildTowerModel(model: MatrixFactorization | TwoTower, side: TowerSide): Uint8Array {
  if (side !== 'user' && side !== 'item') throw rangeError('side', '"user" or "item"', side);
  if (model instanceof MatrixFactorization) return mfTower(model, side);
  if (model && typeof model === 'object' && (model as TwoTower).kind === 'two-tower') return twoTower(model as TwoTower, side);
  throw typeError('model', 'a MatrixFactorization or TwoTower model', model);
}

/**
 * The inputs of a tower model for the given entity rows, from the features the model holds (for
 * parity checks, or to serve known entities through ONNX): int64 ids, padded feature ids and
 * mask, dense rows.
 */
export function towerInputs(
  model: MatrixFactorization | TwoTower,
  side: TowerSide,
  rows: Int32Array | readonly number[],
): Record<string, { data: BigInt64Array | Float32Array; dims: number[] }> {
  const n = rows.length;
  const ids = BigInt64Array.from(Array.from(rows, (r) => BigInt(r)));
  const out: Record<string, { data: BigInt64Array | Float32Array; dims: number[] }> = {};
  if (model instanceof MatrixFactorization) return { ids: { data: ids, dims: [n] } };
  const c = model.config()[side];
  if (c.idEmbedding !== false) out.ids = { data: ids, dims: [n] };
  if (c.features) {
    const { offsets, indices } = c.features.bags;
    let bag = 1;
    for (const r of rows) bag = Math.max(bag, offsets[r + 1] - offsets[r]);
    const fid = new BigInt64Array(n * bag);
    const mask = new Float32Array(n * bag);
    Array.from(rows).forEach((r, q) => {
      for (let j = offsets[r]; j < offsets[r + 1]; j++) {
        fid[q * bag + j - offsets[r]] = BigInt(indices[j]);
        mask[q * bag + j - offsets[r]] = 1;
      }
    });
    out.feature_ids = { data: fid, dims: [n, bag] };
    out.feature_mask = { data: mask, dims: [n, bag] };
  }
  if (c.dense) {
    const dd = c.dense.dim;
    const v = new Float32Array(n * dd);
    Array.from(rows).forEach((r, q) => v.set(c.dense!.values.subarray(r * dd, (r + 1) * dd), q * dd));
    out.dense = { data: v, dims: [n, dd] };
  }
  return out;
}
