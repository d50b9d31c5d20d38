/**
 * A model as tensors and metadata: what saveModel writes. Tensors are ordered weights first,
 * then flags and inputs, then optimizer state, so that a load for serving reads one prefix of the
 * file and skips the (often larger) optimizer state entirely.
 */
import type { MatrixFactorization } from '../../models/matrix-factorization';
import type { Parameter } from '../../models/parameter';
import type { TwoTower, TowerOptions } from '../../models/two-tower';
import { typeError } from '../../core/validate';
import { bytesOf, type TensorToWrite } from '../safetensors/write';
import {
  FORMAT_VERSION,
  KEY,
  bagTensors,
  denseTensor,
  frozenTensor,
  optimizerTensor,
  type ModelKind,
  type ParameterRecord,
  type TowerConfig,
} from './metadata';

export type SavableModel = MatrixFactorization | TwoTower;

/** The model's kind, or a TypeError naming the argument. */
export function modelKind(model: unknown, argument = 'model'): ModelKind {
  const kind = (model as { kind?: unknown } | null)?.kind;
  if (
    model !== null &&
    typeof model === 'object' &&
    (kind === 'matrix-factorization' || kind === 'two-tower') &&
    typeof (model as SavableModel).config === 'function'
  )
    return kind;
  throw typeError(argument, 'a MatrixFactorization or TwoTower model', model);
}

function towerConfig(t: TowerOptions): TowerConfig {
  return {
    idEmbedding: t.idEmbedding !== false,
    ...(t.features ? { features: { vocabulary: t.features.vocabulary } } : {}),
    ...(t.dense ? { dense: { dim: t.dense.dim } } : {}),
    ...(t.mlp ? { mlp: [...t.mlp] } : {}),
  };
}

function frozenFlags(p: Parameter): Uint8Array | null {
  const { frozen } = p.trainingView();
  return frozen && p.frozenRowCount > 0 ? frozen : null;
}

export function modelToTensors(
  model: SavableModel,
  withOptimizer: boolean,
): { tensors: TensorToWrite[]; metadata: Record<string, string> } {
  const kind = modelKind(model);
  const weights: TensorToWrite[] = [];
  const extras: TensorToWrite[] = [];
  const states: TensorToWrite[] = [];
  const records: Record<string, ParameterRecord> = {};
  for (const p of model.parameters()) {
    const t = p.table;
    weights.push({ name: p.name, dtype: 'F32', shape: [t.rows, t.dim], bytes: bytesOf(t.data) });
    const flags = frozenFlags(p);
    if (flags) extras.push({ name: frozenTensor(p.name), dtype: 'U8', shape: [p.rows], bytes: bytesOf(flags) });
    const state = withOptimizer ? p.state : null;
    if (state) states.push({ name: optimizerTensor(p.name), dtype: 'F32', shape: [state.values.length], bytes: bytesOf(state.values) });
    records[p.name] = {
      trainable: p.trainable,
      lrMultiplier: p.lrMultiplier,
      frozenRows: flags !== null,
      optimizer: state ? state.kind : null,
    };
  }
  let config: Record<string, unknown>;
  if (kind === 'two-tower') {
    const c = (model as TwoTower).config();
    for (const side of ['user', 'item'] as const) {
      const tower = c[side];
      if (tower.features) {
        const names = bagTensors(side);
        const { offsets, indices } = tower.features.bags;
        extras.push({ name: names.offsets, dtype: 'I32', shape: [offsets.length], bytes: bytesOf(offsets) });
        extras.push({ name: names.indices, dtype: 'I32', shape: [indices.length], bytes: bytesOf(indices) });
      }
      if (tower.dense) {
        const { values, dim } = tower.dense;
        extras.push({ name: denseTensor(side), dtype: 'F32', shape: [values.length / dim, dim], bytes: bytesOf(values) });
      }
    }
    config = { ...c, user: towerConfig(c.user), item: towerConfig(c.item) };
  } else {
    config = { ...(model as MatrixFactorization).config() };
  }
  const metadata: Record<string, string> = {
    [KEY.version]: String(FORMAT_VERSION),
    [KEY.kind]: kind,
    [KEY.config]: JSON.stringify(config),
    [KEY.parameters]: JSON.stringify(records),
    [KEY.epochs]: String(model.epochsTrained),
  };
  return { tensors: [...weights, ...extras, ...states], metadata };
}
