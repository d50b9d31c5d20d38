/**
 * A named, trainable parameter: a table of values plus what training may do with it. Freezing is
 * data, not code paths: `trainable`, per-row frozen flags and a learning-rate multiplier are read by
 * the native update, which skips frozen weights and their optimizer state alike.
 */
import { types } from 'node:util';

import { ItemSet, type IndexList, resolveIndexList } from '../core/item-set';
import { OptimizerKind, optimizerStateSize } from '../core/native-constants';
import { EmbeddingTable } from '../core/table';
import { expectBoolean, rangeError, typeError } from '../core/validate';
import { sharedFloat32, sharedUint8 } from '../core/shared-memory';

export type OptimizerStateKind = 'adagrad' | 'rowwise-adagrad' | 'adam';

function stateSize(kind: OptimizerStateKind, rows: number, dim: number): number {
  return optimizerStateSize(OptimizerKind[kind], rows, dim);
}

export class Parameter {
  /** Per-row frozen flags (1 = frozen); allocated on first freezeRows. */
  private frozen: Uint8Array | null = null;
  private multiplier = 1;
  private isTrainable = true;
  /** Optimizer state kept with the model (so training can resume and transfer can keep it). */
  private optState: { kind: OptimizerStateKind; values: Float32Array } | null = null;

  private current: EmbeddingTable;

  constructor(
    /** Dotted name, e.g. 'user.embedding', 'item.bias'. */
    readonly name: string,
    table: EmbeddingTable,
  ) {
    this.current = table;
  }

  /** The values. grow() replaces the table object, so fetch it again after growing. */
  get table(): EmbeddingTable {
    return this.current;
  }

  get rows(): number {
    return this.current.rows;
  }

  /**
   * Adds rows at the end (new users or items) without retraining: existing rows, their frozen flags
   * and their optimizer state are kept bit-exactly; new rows start from `init` (zeros by default, or
   * Gaussian noise of the given scale), unfrozen, with fresh optimizer state. Returns the first new row.
   */
  grow(rows: number, init?: { scale?: number; seed?: number }): number {
    if (!Number.isInteger(rows) || rows < 0) throw rangeError('rows', 'integer ≥ 0', rows);
    const old = this.current;
    const first = old.rows;
    if (rows === 0) return first;
    const scale = init?.scale ?? 0;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) throw rangeError('init.scale', 'finite number ≥ 0', scale);
    const next = EmbeddingTable.create(first + rows, old.dim, { shared: true });
    next.data.set(old.data);
    if (scale > 0) {
      const fresh = EmbeddingTable.create(rows, old.dim, { init: 'normal', scale, seed: init?.seed ?? first, shared: false });
      next.data.set(fresh.data, old.data.length);
    }
    if (this.frozen) {
      const flags = sharedUint8(first + rows);
      flags.set(this.frozen);
      this.frozen = flags;
    }
    if (this.optState) {
      // Layouts (optimizerStateSize): per weight, per row, or Adam's m | v | per-row step counts.
      const { kind, values } = this.optState;
      const w = old.data.length;
      const dim = old.dim;
      const grown = sharedFloat32(stateSize(kind, first + rows, dim));
      if (kind === 'adam') {
        grown.set(values.subarray(0, w), 0);
        grown.set(values.subarray(w, 2 * w), w + rows * dim);
        grown.set(values.subarray(2 * w), 2 * (w + rows * dim));
      } else {
        grown.set(values);
      }
      this.optState = { kind, values: grown };
    }
    this.current = next;
    return first;
  }

  get trainable(): boolean {
    return this.isTrainable;
  }

  set trainable(value: boolean) {
    this.isTrainable = expectBoolean(`${this.name}.trainable`, value);
  }

  /** Scales the optimizer's learning rate for this parameter (0 behaves exactly like frozen). */
  get lrMultiplier(): number {
    return this.multiplier;
  }

  set lrMultiplier(value: number) {
    if (typeof value !== 'number') throw typeError(`${this.name}.lrMultiplier`, 'non-negative number', value);
    if (!(value >= 0) || !Number.isFinite(value)) throw rangeError(`${this.name}.lrMultiplier`, 'finite number ≥ 0', value);
    this.multiplier = value;
  }

  /** Freezes the given rows (e.g. pre-trained rows while new rows train). */
  freezeRows(rows: IndexList): void {
    const list = resolveIndexList('rows', rows instanceof ItemSet ? rows : rows, this.rows);
    this.frozen ??= sharedUint8(this.rows);
    for (const r of list) this.frozen[r] = 1;
  }

  /** Unfreezes the given rows, or every row when called without arguments. */
  unfreezeRows(rows?: IndexList): void {
    if (!this.frozen) return;
    if (rows === undefined) {
      this.frozen = null;
      return;
    }
    for (const r of resolveIndexList('rows', rows, this.rows)) this.frozen[r] = 0;
  }

  /** Number of frozen rows. */
  get frozenRowCount(): number {
    if (!this.frozen) return 0;
    let n = 0;
    for (const f of this.frozen) n += f;
    return n;
  }

  isRowFrozen(row: number): boolean {
    return this.frozen !== null && this.frozen[row] === 1;
  }

  /** What the native update reads: flags (or null) and the effective multiplier. */
  trainingView(): { frozen: Uint8Array | null; lrMult: number } {
    return { frozen: this.frozen, lrMult: this.isTrainable ? this.multiplier : 0 };
  }

  /**
   * The optimizer state, allocated (zeros) on first use or when the optimizer kind changes.
   * adagrad: one accumulator per weight; rowwise-adagrad: one per row; adam: first moments (one
   * per weight), second moments (one per weight), then each row's step count (lazy updates).
   */
  optimizerState(kind: OptimizerStateKind): Float32Array {
    const size = stateSize(kind, this.rows, this.table.dim);
    if (!this.optState || this.optState.kind !== kind || this.optState.values.length !== size) {
      this.optState = { kind, values: sharedFloat32(size) };
    }
    return this.optState.values;
  }

  /** The current optimizer state, if any (read-only view for saving or inspection). */
  get state(): { kind: OptimizerStateKind; values: Float32Array } | null {
    return this.optState;
  }

  /**
   * Adopts saved optimizer state (no copy), e.g. from loadModel. The values must have the length
   * optimizerState(kind) would allocate and should live on a SharedArrayBuffer (training writes them
   * from native threads).
   */
  restoreOptimizerState(kind: OptimizerStateKind, values: Float32Array): void {
    if (kind !== 'adagrad' && kind !== 'rowwise-adagrad' && kind !== 'adam') {
      throw rangeError(`${this.name} optimizer state kind`, '"adagrad", "rowwise-adagrad" or "adam"', kind);
    }
    const size = stateSize(kind, this.rows, this.table.dim);
    if (!types.isFloat32Array(values) || values.length !== size)
      throw rangeError(`${this.name} optimizer state`, `a Float32Array of length ${size} for ${kind}`, values);
    this.optState = { kind, values };
  }

  /** Drops the optimizer state (the next training starts its accumulators from zero). */
  resetOptimizerState(): void {
    this.optState = null;
  }
}

/**
 * Tables handed to a model constructor instead of allocated and initialised ones (loadModel passes
 * views of a loaded file). Set only for the duration of one synchronous constructor call.
 */
let adopted: ReadonlyMap<string, EmbeddingTable> | null = null;

/** Runs build() with the given tables adopted by name. */
export function withAdoptedTables<T>(tables: ReadonlyMap<string, EmbeddingTable>, build: () => T): T {
  adopted = tables;
  try {
    return build();
  } finally {
    adopted = null;
  }
}

/** True while a constructor runs under withAdoptedTables (it must then skip initialisation). */
export function adoptingTables(): boolean {
  return adopted !== null;
}

/** The adopted table for name (shape-checked), or a new zeroed shared rows × dim table. */
export function newParameterTable(name: string, rows: number, dim: number): EmbeddingTable {
  if (!adopted) return EmbeddingTable.create(rows, dim, { shared: true });
  const t = adopted.get(name);
  if (!t) throw rangeError('tables', `a table named ${JSON.stringify(name)}`, undefined);
  if (t.rows !== rows || t.dim !== dim)
    throw rangeError(`tables[${JSON.stringify(name)}]`, `a ${rows} × ${dim} table`, `${t.rows} × ${t.dim}`);
  return t;
}

/** Glob-style match for parameter names: '*' matches any run of characters, e.g. 'item.*'. */
export function matchesPattern(name: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}
