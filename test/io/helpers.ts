// Shared fixtures for the I/O tests: temporary folders, bit-level comparison of models, and
// models with every kind of state (frozen rows, multipliers, optimizer state, feature inputs).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { MatrixFactorization, TwoTower, normalGenerator, type Parameter } from '../../lib';

export function tempDir(prefix = 'recbridge-io-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** Fills a parameter's optimizer state of the given kind with seeded values. */
export function fillState(p: Parameter, kind: 'adagrad' | 'rowwise-adagrad' | 'adam', seed: number): void {
  const s = p.optimizerState(kind);
  const n = normalGenerator(seed);
  for (let i = 0; i < s.length; i++) s[i] = Math.abs(n());
}

/** Every observable piece of a model's state, for toEqual comparisons (weights as raw bits). */
export function snapshot(model: MatrixFactorization | TwoTower, withState = true): unknown {
  return {
    kind: model.kind,
    config: model.kind === 'two-tower' ? { ...model.config() } : model.config(),
    epochs: model.epochsTrained,
    params: model.parameters().map((p) => ({
      name: p.name,
      rows: p.rows,
      dim: p.table.dim,
      weights: Array.from(bits(p.table.data)),
      trainable: p.trainable,
      lr: p.lrMultiplier,
      frozen: Array.from({ length: p.rows }, (_, r) => p.isRowFrozen(r)),
      state: withState && p.state ? { kind: p.state.kind, values: Array.from(bits(p.state.values)) } : null,
    })),
  };
}

export function mfWithState(itemBias: boolean): MatrixFactorization {
  const m = new MatrixFactorization({ users: 30, items: 45, dim: 12, itemBias, seed: 5, initScale: 0.2 });
  if (m.itemBias) m.itemBias.table.data.forEach((_, i, a) => (a[i] = (i % 7) * 0.01 - 0.02));
  m.itemEmbedding.freezeRows([0, 3, 44]);
  m.userEmbedding.lrMultiplier = 0.25;
  fillState(m.userEmbedding, 'adam', 1);
  fillState(m.itemEmbedding, 'adagrad', 2);
  if (m.itemBias) fillState(m.itemBias, 'rowwise-adagrad', 3);
  m.epochsTrained = 7;
  return m;
}

export function towerWithState(similarity: 'dot' | 'cosine' = 'dot'): TwoTower {
  const users = 25;
  const items = 40;
  const offsets = Int32Array.from({ length: items + 1 }, (_, i) => Math.floor(i * 2.5));
  const indices = Int32Array.from({ length: offsets[items] }, (_, i) => (i * 7) % 11);
  const dense = Float32Array.from({ length: users * 5 }, (_, i) => Math.sin(i));
  const m = new TwoTower({
    users,
    items,
    dim: 8,
    similarity,
    temperature: similarity === 'cosine' ? 0.1 : 1,
    seed: 9,
    user: { idEmbedding: true, dense: { values: dense, dim: 5 }, mlp: [16, 6] },
    item: { idEmbedding: true, features: { vocabulary: 11, bags: { offsets, indices } }, mlp: [6] },
  });
  // Non-zero biases so that a lost bias would show.
  for (const p of m.parameters()) if (p.name.endsWith('.bias')) p.table.data.forEach((_, i, a) => (a[i] = 0.01 * (i + 1)));
  m.freeze('item.features.*');
  m.parameter('user.embedding').freezeRows([1, 2]);
  fillState(m.parameter('user.embedding'), 'rowwise-adagrad', 4);
  fillState(m.parameter('user.mlp.0.weight'), 'adam', 5);
  m.epochsTrained = 2;
  return m;
}
