/**
 * Side features of users or items, aligned to the rows of their entity Vocabulary: categorical
 * fields (one token per entity, e.g. gender), multi-valued fields (a bag of tokens, e.g. genres) and
 * dense fields (a float vector). Each token field has its own Vocabulary. bags() and dense() give
 * exactly the shapes TwoTower's `TowerOptions.features` and `.dense` take.
 *
 * Aligned means: row e of every field belongs to entities.id(e). When the entity vocabulary grows
 * (new users or items), the new rows read as missing (no token, empty bag, zero vector) until
 * setRow fills them, so features never fall out of step with the tables they feed.
 */
import { types } from 'node:util';

import { lengthError, rangeError, typeError } from '../core/validate';
import { Vocabulary } from './vocabulary';

export type FeatureKind = 'categorical' | 'multi' | 'dense';

/** One token per entity: codes[e] is a row of `vocabulary`, or -1 where the entity has none. */
export interface CategoricalFeature {
  readonly name: string;
  readonly kind: 'categorical';
  readonly vocabulary: Vocabulary;
  readonly codes: Int32Array;
}

/** A bag of tokens per entity: entity e's are indices[offsets[e] .. offsets[e+1]). */
export interface MultiFeature {
  readonly name: string;
  readonly kind: 'multi';
  readonly vocabulary: Vocabulary;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
}

/** A vector per entity, row-major (entities × dim); present[e] is 0 where the entity had none (zeros). */
export interface DenseFeature {
  readonly name: string;
  readonly kind: 'dense';
  readonly dim: number;
  readonly values: Float32Array;
  readonly present: Uint8Array;
}

export type Feature = CategoricalFeature | MultiFeature | DenseFeature;

/** A value for setRow: a token, a list of tokens, or numbers; null marks the field missing. */
export type FeatureValue = string | ReadonlyArray<string> | number | ArrayLike<number> | null;

/** How fromArrays receives one field: tokens per entity, or already-encoded arrays. */
export type FeatureInit =
  | { kind: 'categorical'; values: ReadonlyArray<string | null | undefined>; vocabulary?: Vocabulary }
  | { kind: 'categorical'; codes: Int32Array | ReadonlyArray<number>; vocabulary: Vocabulary }
  | { kind: 'multi'; values: ReadonlyArray<ReadonlyArray<string> | null | undefined>; vocabulary?: Vocabulary }
  | { kind: 'multi'; offsets: Int32Array | ReadonlyArray<number>; indices: Int32Array | ReadonlyArray<number>; vocabulary: Vocabulary }
  | { kind: 'dense'; dim: number; values: Float32Array | ReadonlyArray<number>; present?: Uint8Array };

/** Several token fields as one bag per entity over one id space (TowerOptions.features). */
export interface CombinedBags {
  /** Size of the combined id space. */
  vocabulary: number;
  bags: { offsets: Int32Array; indices: Int32Array };
  /** Where each field's tokens start in the combined space (without `space`, field by field). */
  fields: Array<{ name: string; offset: number; size: number }>;
}

interface CategoricalStore {
  kind: 'categorical';
  vocabulary: Vocabulary;
  codes: Int32Array; // capacity ≥ rows; -1 = missing
}

interface MultiStore {
  kind: 'multi';
  vocabulary: Vocabulary;
  // Compact CSR for rows [0, offsets.length - 1) plus rows set since the last compaction: bags are
  // variable-length, so setRow queues and reads rebuild once.
  offsets: Int32Array;
  indices: Int32Array;
  pending: Map<number, Int32Array>;
}

interface DenseStore {
  kind: 'dense';
  dim: number;
  values: Float32Array; // capacity × dim
  present: Uint8Array; // capacity
}

type Store = CategoricalStore | MultiStore | DenseStore;

const KINDS: readonly FeatureKind[] = ['categorical', 'multi', 'dense'];

function grown<T extends Int32Array | Float32Array | Uint8Array>(a: T, length: number, fill: number): T {
  if (a.length >= length) return a;
  const out = new (a.constructor as { new (n: number): T })(Math.max(length, a.length * 2));
  out.set(a as never);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}

export class SideFeatures {
  private readonly stores = new Map<string, Store>();

  /** Features for the rows of `entities` (a Vocabulary of user or item ids), no fields yet. */
  constructor(readonly entities: Vocabulary) {
    if (!(entities instanceof Vocabulary)) throw typeError('entities', 'Vocabulary', entities);
  }

  /** Number of entities (always the entity vocabulary's current size). */
  get size(): number {
    return this.entities.size;
  }

  /** Field names in the order they were added. */
  get fields(): string[] {
    return [...this.stores.keys()];
  }

  /** Adds an empty field (every entity missing). Token fields get a new Vocabulary unless given one. */
  addField(name: string, kind: FeatureKind, options?: { dim?: number; vocabulary?: Vocabulary }): this {
    if (typeof name !== 'string' || name === '') throw typeError('name', 'non-empty string', name);
    if (this.stores.has(name)) throw rangeError('name', 'a field name not used yet', name);
    if (!KINDS.includes(kind)) throw rangeError('kind', '"categorical", "multi" or "dense"', kind);
    if (kind === 'dense') {
      const dim = options?.dim;
      if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0 || dim > 1 << 16)
        throw rangeError('options.dim', 'integer in [0, 65536]', dim);
      this.stores.set(name, { kind, dim, values: new Float32Array(0), present: new Uint8Array(0) });
      return this;
    }
    const vocabulary = options?.vocabulary ?? new Vocabulary();
    if (!(vocabulary instanceof Vocabulary)) throw typeError('options.vocabulary', 'Vocabulary', vocabulary);
    if (kind === 'categorical') this.stores.set(name, { kind, vocabulary, codes: new Int32Array(0) });
    else this.stores.set(name, { kind, vocabulary, offsets: new Int32Array(1), indices: new Int32Array(0), pending: new Map() });
    return this;
  }

  /**
   * Sets the features of one entity (a row, or an external id, which is added to the entity
   * vocabulary when new). Fields not named keep their values; null makes a field missing. New
   * tokens join their field's vocabulary. Returns the entity's row.
   */
  setRow(entity: number | string, values: Readonly<Record<string, FeatureValue>>): number {
    let row: number;
    if (typeof entity === 'string') row = this.entities.add(entity);
    else if (typeof entity === 'number' && Number.isInteger(entity) && entity >= 0 && entity < this.size) row = entity;
    else throw rangeError('entity', `an id, or a row in [0, ${this.size})`, entity);
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw typeError('values', 'object of field values', values);
    for (const [name, value] of Object.entries(values)) {
      const store = this.stores.get(name);
      if (!store) throw rangeError(`values.${name}`, `a field name (${this.fields.join(', ') || 'none yet'})`, name);
      this.write(store, row, value, `values.${name}`);
    }
    return row;
  }

  private write(store: Store, row: number, value: FeatureValue, argument: string): void {
    if (store.kind === 'categorical') {
      store.codes = grown(store.codes, row + 1, -1);
      if (value === null) store.codes[row] = -1;
      else if (typeof value === 'string') store.codes[row] = store.vocabulary.add(value);
      else throw typeError(argument, 'a token (string) or null', value);
    } else if (store.kind === 'multi') {
      if (value === null) store.pending.set(row, new Int32Array(0));
      else if (Array.isArray(value) && value.every((t) => typeof t === 'string'))
        store.pending.set(
          row,
          Int32Array.from(value as string[], (t) => store.vocabulary.add(t)),
        );
      else throw typeError(argument, 'an array of tokens (strings) or null', value);
    } else {
      store.values = grown(store.values, (row + 1) * store.dim, 0);
      store.present = grown(store.present, row + 1, 0);
      const at = row * store.dim;
      if (value === null) {
        store.values.fill(0, at, at + store.dim);
        store.present[row] = 0;
        return;
      }
      const v = typeof value === 'number' ? [value] : value;
      if (typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number' || typeof v === 'string')
        throw typeError(argument, `${store.dim} numbers or null`, value);
      const list = v as ArrayLike<number>;
      if (list.length !== store.dim) throw lengthError(argument, `${store.dim} numbers (the field's dim)`, value);
      for (let k = 0; k < store.dim; k++) {
        if (typeof list[k] !== 'number' || !Number.isFinite(list[k])) throw rangeError(`${argument}[${k}]`, 'finite number', list[k]);
      }
      for (let k = 0; k < store.dim; k++) store.values[at + k] = list[k];
      store.present[row] = 1;
    }
  }

  private store(name: string, argument: string): Store {
    if (typeof name !== 'string') throw typeError(argument, 'field name', name);
    const s = this.stores.get(name);
    if (!s) throw rangeError(argument, `a field name (${this.fields.join(', ') || 'none'})`, name);
    return s;
  }

  /** Pending bag updates folded into the CSR, padded with empty bags up to the current size. */
  private compact(s: MultiStore): void {
    const n = this.size;
    const rows = Math.max(n, s.offsets.length - 1);
    if (s.pending.size === 0 && s.offsets.length - 1 === rows) return;
    const offsets = new Int32Array(rows + 1);
    let total = 0;
    for (let e = 0; e < rows; e++) {
      const p = s.pending.get(e);
      total += p ? p.length : e < s.offsets.length - 1 ? s.offsets[e + 1] - s.offsets[e] : 0;
      offsets[e + 1] = total;
    }
    const indices = new Int32Array(total);
    for (let e = 0; e < rows; e++) {
      const p = s.pending.get(e);
      if (p) indices.set(p, offsets[e]);
      else if (e < s.offsets.length - 1) indices.set(s.indices.subarray(s.offsets[e], s.offsets[e + 1]), offsets[e]);
    }
    s.offsets = offsets;
    s.indices = indices;
    s.pending.clear();
  }

  /** What a field holds for every current entity (views: read them, change features with setRow). */
  field(name: string): Feature {
    const s = this.store(name, 'name');
    const n = this.size;
    if (s.kind === 'categorical') {
      s.codes = grown(s.codes, n, -1);
      return { name, kind: s.kind, vocabulary: s.vocabulary, codes: s.codes.subarray(0, n) };
    }
    if (s.kind === 'multi') {
      this.compact(s);
      const offsets = s.offsets.subarray(0, n + 1);
      return { name, kind: s.kind, vocabulary: s.vocabulary, offsets, indices: s.indices.subarray(0, offsets[n]) };
    }
    s.values = grown(s.values, n * s.dim, 0);
    s.present = grown(s.present, n, 0);
    return { name, kind: s.kind, dim: s.dim, values: s.values.subarray(0, n * s.dim), present: s.present.subarray(0, n) };
  }

  /** The kind of a field. */
  kind(name: string): FeatureKind {
    return this.store(name, 'name').kind;
  }

  /**
   * Categorical and multi-valued fields combined into one bag per entity (fresh arrays), for
   * `TowerOptions.features`. Without `space`, field k's tokens occupy [offset_k, offset_k + size_k)
   * after the fields before it, so a token added later to an earlier field shifts the later ones;
   * pass a `space` Vocabulary (keys `field:token`, kept with the model) when tokens will keep
   * arriving and rows must stay put.
   */
  bags(names: readonly string[], options?: { space?: Vocabulary }): CombinedBags {
    if (!Array.isArray(names) || names.length === 0) throw typeError('names', 'a non-empty array of field names', names);
    const space = options?.space;
    if (space !== undefined && !(space instanceof Vocabulary)) throw typeError('options.space', 'Vocabulary', space);
    const parts = names.map((name, k) => {
      const f = this.field(this.checkName(names, k));
      if (f.kind === 'dense') throw rangeError(`names[${k}]`, 'a categorical or multi-valued field (use dense() for dense ones)', name);
      return f;
    });
    const n = this.size;
    const offsets = new Int32Array(n + 1);
    for (let e = 0; e < n; e++) {
      let c = 0;
      for (const f of parts) c += f.kind === 'categorical' ? (f.codes[e] >= 0 ? 1 : 0) : f.offsets[e + 1] - f.offsets[e];
      offsets[e + 1] = offsets[e] + c;
    }
    const indices = new Int32Array(offsets[n]);
    let base = 0;
    const fields = parts.map((f) => {
      const out = { name: f.name, offset: base, size: f.vocabulary.size };
      base += f.vocabulary.size;
      return out;
    });
    // Without a space, token t of field k is fields[k].offset + t; with one, its `field:token` row.
    const maps = parts.map((f, k) =>
      space ? Int32Array.from(f.vocabulary.toArray(), (t) => space.add(`${f.name}:${t}`)) : fields[k].offset,
    );
    const at = offsets.slice(0, n);
    parts.forEach((f, k) => {
      const m = maps[k];
      const map = (t: number) => (typeof m === 'number' ? m + t : m[t]);
      for (let e = 0; e < n; e++) {
        if (f.kind === 'categorical') {
          if (f.codes[e] >= 0) indices[at[e]++] = map(f.codes[e]);
        } else {
          for (let j = f.offsets[e]; j < f.offsets[e + 1]; j++) indices[at[e]++] = map(f.indices[j]);
        }
      }
    });
    return { vocabulary: space ? space.size : base, bags: { offsets, indices }, fields };
  }

  /** Dense fields side by side, row-major (entities × sum of dims), for `TowerOptions.dense`. */
  dense(names: readonly string[]): { values: Float32Array; dim: number } {
    if (!Array.isArray(names) || names.length === 0) throw typeError('names', 'a non-empty array of field names', names);
    const parts = names.map((name, k) => {
      const f = this.field(this.checkName(names, k));
      if (f.kind !== 'dense') throw rangeError(`names[${k}]`, 'a dense field (use bags() for token fields)', name);
      return f;
    });
    const n = this.size;
    const dim = parts.reduce((s, f) => s + f.dim, 0);
    const values = new Float32Array(n * dim);
    let col = 0;
    for (const f of parts) {
      for (let e = 0; e < n; e++) values.set(f.values.subarray(e * f.dim, (e + 1) * f.dim), e * dim + col);
      col += f.dim;
    }
    return { values, dim };
  }

  private checkName(names: readonly string[], k: number): string {
    if (names.indexOf(names[k]) !== k) throw rangeError(`names[${k}]`, 'a field named once', names[k]);
    this.store(names[k], `names[${k}]`);
    return names[k];
  }

  /**
   * Features built from arrays, one entry per entity row (fewer rows than entities leave the rest
   * missing): tokens (`values`), or encoded arrays over a given field vocabulary.
   */
  static fromArrays(entities: Vocabulary, fields: Readonly<Record<string, FeatureInit>>): SideFeatures {
    const out = new SideFeatures(entities);
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
      throw typeError('fields', 'object of field name → field init', fields);
    for (const [name, init] of Object.entries(fields)) out.addFromInit(name, init, `fields.${name}`);
    return out;
  }

  private addFromInit(name: string, init: FeatureInit, arg: string): void {
    if (init === null || typeof init !== 'object') throw typeError(arg, 'field init object', init);
    const n = this.size;
    const tooMany = (length: number, what: string) => {
      if (length > n) throw lengthError(`${arg}.${what}`, `at most ${n} rows (the entity vocabulary's size)`, length);
    };
    if (init.kind === 'dense') {
      this.addField(name, 'dense', { dim: init.dim });
      const s = this.stores.get(name) as DenseStore;
      const values = types.isFloat32Array(init.values) ? init.values : Array.isArray(init.values) ? Float32Array.from(init.values) : null;
      if (!values) throw typeError(`${arg}.values`, 'Float32Array or array of numbers', init.values);
      const rows = s.dim === 0 ? 0 : values.length / s.dim;
      if (!Number.isInteger(rows)) throw lengthError(`${arg}.values`, `a multiple of dim ${s.dim}`, init.values);
      tooMany(rows, 'values');
      for (let i = 0; i < values.length; i++)
        if (!Number.isFinite(values[i])) throw rangeError(`${arg}.values[${i}]`, 'finite number', values[i]);
      s.values = new Float32Array(values);
      if (init.present !== undefined) {
        if (!types.isUint8Array(init.present) || init.present.length !== rows)
          throw lengthError(`${arg}.present`, `a Uint8Array of length ${rows} (one per row of values)`, init.present);
        s.present = new Uint8Array(init.present);
      } else {
        s.present = new Uint8Array(rows).fill(1);
      }
      return;
    }
    if (init.kind !== 'categorical' && init.kind !== 'multi')
      throw rangeError(`${arg}.kind`, '"categorical", "multi" or "dense"', (init as { kind: unknown }).kind);
    this.addField(name, init.kind, { vocabulary: init.vocabulary });
    const s = this.stores.get(name) as CategoricalStore | MultiStore;
    const v = s.vocabulary;
    if ('values' in init && init.values !== undefined) {
      if (!Array.isArray(init.values)) throw typeError(`${arg}.values`, 'array with one entry per entity', init.values);
      tooMany(init.values.length, 'values');
      init.values.forEach((x, e) => {
        if (x === null || x === undefined) return;
        this.write(s, e, x as FeatureValue, `${arg}.values[${e}]`);
      });
      return;
    }
    const bound = v.size;
    const index = (what: string, a: unknown, max: number): Int32Array => {
      const out = types.isInt32Array(a) ? a : Array.isArray(a) ? Int32Array.from(a as number[]) : null;
      if (!out) throw typeError(`${arg}.${what}`, 'Int32Array or array of integers', a);
      for (let i = 0; i < out.length; i++)
        if (!(out[i] >= -1 && out[i] < max))
          throw rangeError(`${arg}.${what}[${i}]`, `integer in [${what === 'codes' ? -1 : 0}, ${max})`, out[i]);
      return out;
    };
    if (s.kind === 'categorical') {
      const codes = index('codes', (init as { codes?: unknown }).codes, bound);
      tooMany(codes.length, 'codes');
      s.codes = new Int32Array(codes);
      return;
    }
    const offsets = index('offsets', (init as { offsets?: unknown }).offsets, 2 ** 31 - 1);
    const indices = index('indices', (init as { indices?: unknown }).indices, bound);
    if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== indices.length) {
      throw rangeError(`${arg}.offsets`, `offsets from 0 to indices.length (${indices.length})`, (init as { offsets: unknown }).offsets);
    }
    for (let e = 0; e + 1 < offsets.length; e++)
      if (offsets[e + 1] < offsets[e]) throw rangeError(`${arg}.offsets[${e + 1}]`, `integer ≥ ${offsets[e]}`, offsets[e + 1]);
    for (let i = 0; i < indices.length; i++)
      if (indices[i] < 0) throw rangeError(`${arg}.indices[${i}]`, `integer in [0, ${bound})`, indices[i]);
    tooMany(offsets.length - 1, 'offsets');
    s.offsets = new Int32Array(offsets);
    s.indices = new Int32Array(indices);
  }
}
