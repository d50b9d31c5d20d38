/**
 * A Domain is one catalogue's world: its interactions plus the vocabularies that turn its rows back
 * into external ids, and optional side features per user and item. Transfer works on two of them.
 */
import type { SideFeatures } from '../data/side-features';
import { Vocabulary } from '../data/vocabulary';
import { Interactions } from '../data/interactions';
import { expectOptions, rangeError, typeError } from '../core/validate';

/** Side features as the towers take them: a bag of categorical ids and/or a dense vector per entity. */
export interface EntityFeatures {
  /** Categorical ids per entity (CSR over entity rows) in a vocabulary of `vocabulary` ids. */
  bags?: { vocabulary: number; offsets: Int32Array; indices: Int32Array };
  /** A dense vector per entity, row-major (entities × dim). */
  dense?: { values: Float32Array; dim: number };
}

export interface DomainInit {
  name: string;
  interactions: Interactions;
  /** External ids of the user rows. Default: the row numbers as strings. */
  users?: Vocabulary;
  items?: Vocabulary;
  userFeatures?: EntityFeatures;
  itemFeatures?: EntityFeatures;
}

export class Domain {
  readonly name: string;
  readonly interactions: Interactions;
  readonly users: Vocabulary;
  readonly items: Vocabulary;
  readonly userFeatures: EntityFeatures | null;
  readonly itemFeatures: EntityFeatures | null;

  constructor(init: DomainInit) {
    const o = expectOptions('domain', init);
    if (typeof o.name !== 'string' || o.name === '') throw typeError('domain.name', 'non-empty string', o.name);
    if (!(o.interactions instanceof Interactions)) throw typeError('domain.interactions', 'Interactions', o.interactions);
    this.name = o.name;
    this.interactions = o.interactions;
    this.users = checkVocabulary('domain.users', o.users, o.interactions.numUsers);
    this.items = checkVocabulary('domain.items', o.items, o.interactions.numItems);
    this.userFeatures = checkFeatures('domain.userFeatures', o.userFeatures, this.numUsers);
    this.itemFeatures = checkFeatures('domain.itemFeatures', o.itemFeatures, this.numItems);
  }

  /** Rows in the user space: the vocabulary may know users without interactions. */
  get numUsers(): number {
    return Math.max(this.users.size, this.interactions.numUsers);
  }

  get numItems(): number {
    return Math.max(this.items.size, this.interactions.numItems);
  }

  /** The same domain with other interactions over the same rows (a training split, say). */
  withInteractions(interactions: Interactions): Domain {
    return new Domain({
      ...this,
      userFeatures: this.userFeatures ?? undefined,
      itemFeatures: this.itemFeatures ?? undefined,
      interactions,
    });
  }
}

function checkVocabulary(argument: string, vocabulary: Vocabulary | undefined, rows: number): Vocabulary {
  if (vocabulary === undefined) return new Vocabulary(Array.from({ length: rows }, (_, i) => String(i)));
  if (!(vocabulary instanceof Vocabulary)) throw typeError(argument, 'Vocabulary', vocabulary);
  if (vocabulary.size < rows)
    throw rangeError(argument, `a vocabulary covering every row of the interactions (${rows})`, `${vocabulary.size} ids`);
  return vocabulary;
}

function checkFeatures(argument: string, features: EntityFeatures | undefined, rows: number): EntityFeatures | null {
  if (features === undefined) return null;
  const f = expectOptions(argument, features);
  if (f.bags !== undefined) {
    const b = expectOptions(`${argument}.bags`, f.bags);
    if (!(b.offsets instanceof Int32Array) || b.offsets.length < rows + 1)
      throw rangeError(`${argument}.bags.offsets`, `an Int32Array of at least ${rows + 1} entries`, b.offsets);
    if (!(b.indices instanceof Int32Array)) throw typeError(`${argument}.bags.indices`, 'Int32Array', b.indices);
    const vocabulary = b.vocabulary as number;
    if (!Number.isInteger(vocabulary) || vocabulary < 1) throw rangeError(`${argument}.bags.vocabulary`, 'integer ≥ 1', b.vocabulary);
    const offsets = b.offsets as Int32Array;
    const indices = b.indices as Int32Array;
    if (offsets[0] !== 0) throw rangeError(`${argument}.bags.offsets[0]`, '0', offsets[0]);
    for (let e = 0; e < rows; e++) {
      if (offsets[e + 1] < offsets[e] || offsets[e + 1] > indices.length)
        throw rangeError(`${argument}.bags.offsets[${e + 1}]`, `non-decreasing offsets within indices (${indices.length})`, offsets[e + 1]);
    }
    for (let k = 0; k < offsets[rows]; k++) {
      if (indices[k] < 0 || indices[k] >= vocabulary)
        throw rangeError(`${argument}.bags.indices[${k}]`, `an id in [0, ${vocabulary})`, indices[k]);
    }
  }
  if (f.dense !== undefined) {
    const d = expectOptions(`${argument}.dense`, f.dense);
    if (!Number.isInteger(d.dim) || (d.dim as number) < 1) throw rangeError(`${argument}.dense.dim`, 'integer ≥ 1', d.dim);
    if (!(d.values instanceof Float32Array) || d.values.length < rows * (d.dim as number)) {
      throw rangeError(`${argument}.dense.values`, `a Float32Array of at least ${rows} × ${d.dim} values`, d.values);
    }
  }
  return f;
}

/** A SideFeatures set (loadFeatures) as tower-ready features: token fields as one bag, dense fields as one vector. */
export function entityFeatures(features: SideFeatures, fields: readonly string[] = features.fields): EntityFeatures {
  const tokens = fields.filter((f) => features.kind(f) !== 'dense');
  const dense = fields.filter((f) => features.kind(f) === 'dense');
  const out: EntityFeatures = {};
  if (tokens.length) {
    const combined = features.bags(tokens);
    out.bags = { vocabulary: combined.vocabulary, offsets: combined.bags.offsets, indices: combined.bags.indices };
  }
  if (dense.length) out.dense = features.dense(dense);
  return out;
}
