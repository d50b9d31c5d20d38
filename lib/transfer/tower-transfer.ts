/**
 * Two-tower transfer: a TwoTower pre-trained on the source domain hands one tower to a TwoTower of
 * the target domain. Which tower is shared decides what crosses the domains: the item tower carries
 * a map from item content (feature bags, dense vectors, text embeddings, and the ids of items both
 * catalogues hold) to vectors; the user tower carries the aligned users. The target model then
 * trains in two phases — the shared tower frozen while the new tower learns to live in its space,
 * then everything with the shared tower at a lower learning rate — early-stopped on the target
 * validation rows (warm users and validation-cold users).
 */
import { types } from 'node:util';

import { RecbridgeError } from '../core/errors';
import { uniformGenerator } from '../core/random';
import { expectOptions, expectPositiveInteger, lengthError, rangeError, typeError } from '../core/validate';
import type { Interactions } from '../data/interactions';
import { encodeWithOnnx, type EncodeWithOnnxOptions, type EncoderInput } from '../io/onnx/encode';
import { TwoTower, type TowerOptions } from '../models/two-tower';
import type { FitReport } from '../train/epoch-loop';
import { Trainer } from '../train/trainer';
import type { TwoTowerFitOptions } from '../train/two-tower-trainer';
import type { Alignment, RowPairs } from './align';
import { rowsByUserFlag } from './cold-split';
import type { TransferContext } from './context';
import type { Domain, EntityFeatures } from './domain';
import { copyParameters } from './copy-parameters';
import { runSchedule, type Phase, type PhaseReport } from './schedule';

/**
 * Item text embeddings for the item towers, added to each domain's dense item features (or the only
 * ones): either the vectors themselves, one row per item row of each domain, or an ONNX encoder run
 * over each domain's item inputs with encodeWithOnnx (e.g. token ids and attention masks).
 */
export type ItemEmbeddings =
  | {
      /** Source items × dim, row-major (rows as the source domain numbers its items). */
      source: Float32Array;
      /** Target items × dim, row-major. */
      target: Float32Array;
      /** Width of a vector, ≥ 1. */
      dim: number;
    }
  | {
      /** Path to an .onnx encoder or its bytes; onnxruntime-node must be installed. */
      encoder: string | Uint8Array;
      /** The encoder's inputs for every source item (first dimension = source items). */
      source: Record<string, EncoderInput>;
      /** The encoder's inputs for every target item. */
      target: Record<string, EncoderInput>;
      /** Pooling, batch size, normalisation… (see EncodeWithOnnxOptions). */
      options?: EncodeWithOnnxOptions;
    };

export interface TowerTransferOptions {
  /**
   * Hidden sizes of an MLP on top of each tower's summed input (ReLU between layers; the last size is
   * the output width). Default: none (a tower's output is its summed input, width settings.dim).
   */
  mlp?: number[];
  /**
   * Learning-rate multiplier of the shared tower in the second target phase. 0 keeps the shared
   * tower frozen throughout (one phase). Default 0.1.
   */
  sharedLrMultiplier?: number;
  /** Learning rate of the embedding tables (Adagrad); dense layers (projection, MLP) take Adam at a tenth of it. Default 0.2. */
  lr?: number;
  /** Softmax temperature (> 0); the towers use cosine similarity. Default 0.25. */
  temperature?: number;
  /** Interactions per batch; the other items of a batch are the negatives (logQ-corrected). Default 128. */
  batchSize?: number;
  /** Item text embeddings added to the item towers' dense content. Default: none. */
  itemEmbeddings?: ItemEmbeddings;
  /**
   * towers-shared-items only: an id embedding in the item towers beside the content (items aligned
   * by the alignment share their row). Default true.
   */
  itemIds?: boolean;
}

export type TowerKind = 'shared-items' | 'shared-users';

/** The two models of a tower transfer and what training did. */
export interface TowerTransferModels {
  source: TwoTower;
  target: TwoTower;
  /** Names of the target model's parameters that came from the source model. */
  shared: string[];
  sourceReport: FitReport;
  phases: PhaseReport[];
}

interface Resolved {
  mlp: number[] | undefined;
  sharedLr: number;
  lr: number;
  temperature: number;
  batchSize: number;
  itemEmbeddings: ItemEmbeddings | undefined;
  itemIds: boolean;
}

export function resolveTowerOptions(options: TowerTransferOptions | undefined): Resolved {
  const o = expectOptions('options', options);
  const positive = (argument: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw rangeError(argument, 'finite number > 0', value);
    return value;
  };
  if (o.mlp !== undefined && (!Array.isArray(o.mlp) || o.mlp.length === 0))
    throw typeError('options.mlp', 'a non-empty array of layer sizes', o.mlp);
  o.mlp?.forEach((size, l) => expectPositiveInteger(`options.mlp[${l}]`, size, 1 << 16));
  const sharedLr = o.sharedLrMultiplier ?? 0.1;
  if (typeof sharedLr !== 'number' || !Number.isFinite(sharedLr) || sharedLr < 0)
    throw rangeError('options.sharedLrMultiplier', 'finite number ≥ 0', sharedLr);
  if (o.itemIds !== undefined && typeof o.itemIds !== 'boolean') throw typeError('options.itemIds', 'boolean', o.itemIds);
  if (o.itemEmbeddings !== undefined) checkItemEmbeddings(o.itemEmbeddings);
  return {
    mlp: o.mlp?.slice(),
    sharedLr,
    lr: positive('options.lr', o.lr, 0.2),
    temperature: positive('options.temperature', o.temperature, 0.25),
    batchSize: o.batchSize === undefined ? 128 : expectPositiveInteger('options.batchSize', o.batchSize, 65_536),
    itemEmbeddings: o.itemEmbeddings,
    itemIds: o.itemIds ?? true,
  };
}

function checkItemEmbeddings(value: ItemEmbeddings): void {
  const e = expectOptions('options.itemEmbeddings', value) as Record<string, unknown>;
  if ('encoder' in e) {
    if (typeof e.encoder !== 'string' && !types.isUint8Array(e.encoder))
      throw typeError('options.itemEmbeddings.encoder', 'path to an .onnx file or its bytes (Uint8Array)', e.encoder);
    for (const side of ['source', 'target'])
      if (!e[side] || typeof e[side] !== 'object')
        throw typeError(`options.itemEmbeddings.${side}`, 'the encoder inputs by name ({ data, dims })', e[side]);
    return;
  }
  expectPositiveInteger('options.itemEmbeddings.dim', e.dim, 1 << 16);
  for (const side of ['source', 'target'])
    if (!types.isFloat32Array(e[side])) throw typeError(`options.itemEmbeddings.${side}`, 'Float32Array (items × dim)', e[side]);
}

/** Dense item vectors per domain from options.itemEmbeddings, checked against each catalogue. */
async function textVectors(ctx: TransferContext, e: ItemEmbeddings): Promise<{ source: Float32Array; target: Float32Array; dim: number }> {
  const { source, target } = ctx.alignment;
  let out: { source: Float32Array; target: Float32Array; dim: number };
  if ('encoder' in e) {
    const s = await encodeWithOnnx(e.encoder, e.source, { ...e.options, signal: ctx.signal });
    const t = await encodeWithOnnx(e.encoder, e.target, { ...e.options, signal: ctx.signal });
    out = { source: s.values, target: t.values, dim: s.dim };
  } else out = e;
  for (const [side, domain] of [
    ['source', source],
    ['target', target],
  ] as const) {
    const want = domain.numItems * out.dim;
    if (out[side].length !== want)
      throw lengthError(`options.itemEmbeddings.${side}`, `${want} values (${domain.numItems} ${side} items × dim ${out.dim})`, out[side]);
  }
  return out;
}

/** One domain's item content as tower inputs: exact-length bag arrays, dense vectors joined with text vectors. */
function contentOf(
  features: EntityFeatures | null,
  items: number,
  text: Float32Array | null,
  textDim: number,
): { bags?: { vocabulary: number; offsets: Int32Array; indices: Int32Array }; dense?: { values: Float32Array; dim: number } } {
  const out: ReturnType<typeof contentOf> = {};
  if (features?.bags) {
    const offsets = features.bags.offsets.slice(0, items + 1);
    out.bags = { vocabulary: features.bags.vocabulary, offsets, indices: features.bags.indices.slice(0, offsets[items]) };
  }
  const own = features?.dense;
  if (own || text) {
    const dim = (own?.dim ?? 0) + (text ? textDim : 0);
    const values = new Float32Array(items * dim);
    for (let i = 0; i < items; i++) {
      if (own) values.set(own.values.subarray(i * own.dim, (i + 1) * own.dim), i * dim);
      if (text) values.set(text.subarray(i * textDim, (i + 1) * textDim), i * dim + (own?.dim ?? 0));
    }
    out.dense = { values, dim };
  }
  return out;
}

type Content = ReturnType<typeof contentOf>;

/** Item towers of both domains over content both can read (feature ids and dense widths in common). */
function sharedContent(
  source: Content,
  target: Content,
  sourceDomain: Domain,
  targetDomain: Domain,
): { source: TowerOptions; target: TowerOptions } {
  const s: TowerOptions = {};
  const t: TowerOptions = {};
  if (source.bags && target.bags) {
    // One feature table for both: the domains number their feature ids alike (one vocabulary).
    const vocabulary = Math.max(source.bags.vocabulary, target.bags.vocabulary);
    s.features = { vocabulary, bags: { offsets: source.bags.offsets, indices: source.bags.indices } };
    t.features = { vocabulary, bags: { offsets: target.bags.offsets, indices: target.bags.indices } };
  }
  if (source.dense && target.dense) {
    if (source.dense.dim !== target.dense.dim)
      throw new RecbridgeError(
        'ERR_DIMENSION_MISMATCH',
        `The item towers share one dense projection, so both domains' dense item content must be as wide: ` +
          `${JSON.stringify(sourceDomain.name)} has ${source.dense.dim} values per item, ${JSON.stringify(targetDomain.name)} ${target.dense.dim}`,
      );
    s.dense = source.dense;
    t.dense = target.dense;
  }
  return { source: s, target: t };
}

const SHARED_ITEMS_NEED =
  'item content in both domains (feature bags over one vocabulary, or dense vectors of one width; or options.itemEmbeddings), ' +
  'or items aligned across the catalogues (align.items) with options.itemIds';

/** Why towers-shared-items cannot run on these domains (nothing to share), or null. */
export function sharedItemsProblem(alignment: Alignment, options: TowerTransferOptions | Resolved | undefined): string | null {
  const { source, target, items } = alignment;
  if (options?.itemEmbeddings) return null;
  const s = source.itemFeatures;
  const t = target.itemFeatures;
  if ((s?.bags && t?.bags) || (s?.dense && t?.dense)) return null;
  if ((options?.itemIds ?? true) && items.target.length > 0) return null;
  const has = (d: Domain) => (d.itemFeatures ? `item content of another kind` : 'no item content');
  return `${has(source)} in ${JSON.stringify(source.name)}, ${has(target)} in ${JSON.stringify(target.name)}, ${items.target.length} aligned items`;
}

/** Throws the typed error towers-shared-items gives when the domains share nothing on the item side. */
export function checkSharedItems(alignment: Alignment, options: TowerTransferOptions | undefined): void {
  const problem = sharedItemsProblem(alignment, options);
  if (problem) throw rangeError('target.itemFeatures', SHARED_ITEMS_NEED, problem);
}

const SHARED_ITEM_PARTS = ['item.features.embedding', 'item.dense.*', 'item.mlp.*'];

/** The source and target TwoTowers of a tower transfer, trained (once per context, options and kind). */
export function towerTransferModels(ctx: TransferContext, kind: TowerKind, options?: TowerTransferOptions): Promise<TowerTransferModels> {
  const o = resolveTowerOptions(options);
  return ctx.memo(`towers:${kind}:${memoKey(o)}`, () => train(ctx, kind, o));
}

async function train(ctx: TransferContext, kind: TowerKind, o: Resolved): Promise<TowerTransferModels> {
  const { source, target } = ctx.alignment;
  const text = o.itemEmbeddings ? await textVectors(ctx, o.itemEmbeddings) : null;
  const sourceContent = contentOf(source.itemFeatures, source.numItems, text?.source ?? null, text?.dim ?? 0);
  const targetContent = contentOf(target.itemFeatures, target.numItems, text?.target ?? null, text?.dim ?? 0);
  const itemPairs = ctx.alignment.items;
  let sourceItem: TowerOptions;
  let targetItem: TowerOptions;
  if (kind === 'shared-items') {
    const problem = sharedItemsProblem(ctx.alignment, o);
    if (problem) throw rangeError('target.itemFeatures', SHARED_ITEMS_NEED, problem);
    const shared = sharedContent(sourceContent, targetContent, source, target);
    sourceItem = { ...shared.source, idEmbedding: o.itemIds };
    targetItem = { ...shared.target, idEmbedding: o.itemIds };
  } else {
    // Per-domain item towers: ids plus whatever content each domain has (cold items need it).
    const own = (c: Content): TowerOptions => ({
      idEmbedding: true,
      ...(c.bags ? { features: { vocabulary: c.bags.vocabulary, bags: { offsets: c.bags.offsets, indices: c.bags.indices } } } : {}),
      ...(c.dense ? { dense: c.dense } : {}),
    });
    sourceItem = own(sourceContent);
    targetItem = own(targetContent);
  }
  const mlp = o.mlp ? { mlp: o.mlp } : {};
  const common = { dim: ctx.settings.dim, similarity: 'cosine' as const, temperature: o.temperature };
  const fresh = new TwoTower({
    ...common,
    users: source.numUsers,
    items: source.numItems,
    user: { idEmbedding: true, ...mlp },
    item: { ...sourceItem, ...mlp },
    seed: ctx.seed * 7 + 11,
  });
  const targetModel = new TwoTower({
    ...common,
    users: target.numUsers,
    items: target.numItems,
    user: { idEmbedding: true, ...mlp },
    item: { ...targetItem, ...mlp },
    seed: ctx.seed * 7 + 12,
  });
  const towerFit = (extra: TwoTowerFitOptions): TwoTowerFitOptions => ({
    optimizer: { type: 'adam', lr: o.lr },
    denseOptimizer: { type: 'adam', lr: o.lr / 10 },
    logQ: true,
    batchSize: o.batchSize,
    threads: ctx.settings.threads,
    seed: ctx.seed,
    signal: ctx.signal,
    epochs: ctx.settings.epochs,
    ...extra,
  });
  const validation = (data: Interactions) =>
    data.size > 0
      ? {
          data: someUsers(data, VALIDATION_USERS, ctx.seed),
          metric: ctx.settings.metric,
          k: ctx.settings.k,
          patience: ctx.settings.patience,
          restoreBest: true,
        }
      : undefined;

  if (hasItemContent(sourceItem)) zeroItemIds(fresh);
  if (hasItemContent(targetItem)) zeroItemIds(targetModel);
  // Both kinds build the same source model when the item towers agree: train it once per context.
  const pretrained = await ctx.memo(`towers-source:${memoKey(o)}:${describeTower(sourceItem)}`, async () => ({
    model: fresh,
    report: await pretrain(ctx, fresh, towerFit, validation),
  }));
  const sourceModel = pretrained.model;
  const sourceReport = pretrained.report;

  const sharedParts = kind === 'shared-items' ? SHARED_ITEM_PARTS : ['user.embedding', 'user.mlp.*'];
  const have = new Set(targetModel.parameters().map((p) => p.name));
  const include = sharedParts.filter((pattern) => targetModel.parameters().some((p) => matches(p.name, pattern)));
  const rows: Record<string, RowPairs> = {};
  const users = ctx.alignment.users;
  // Aligned users start where the source put them, in both kinds (the item tower is shared, or the user tower is).
  if (kind === 'shared-items') {
    copyParameters(sourceModel, targetModel, { include: ['user.embedding'], rows: { 'user.embedding': users } });
    if (o.mlp) copyParameters(sourceModel, targetModel, { include: ['user.mlp.*'] });
    if (have.has('item.embedding') && itemPairs.target.length) {
      include.push('item.embedding');
      rows['item.embedding'] = itemPairs;
    }
  } else rows['user.embedding'] = users;
  if (include.length) copyParameters(sourceModel, targetModel, { include, rows });
  const shared = targetModel.parameters().filter((p) => include.some((pattern) => matches(p.name, pattern)));

  // Phase 1: the shared tower frozen (whole parameters, or the aligned rows of a shared id table).
  const whole = shared.filter((p) => !(p.name in rows)).map((p) => p.name);
  const frozenRows = Object.fromEntries(Object.entries(rows).map(([name, pairs]) => [name, pairs.target]));
  const trainable = targetModel
    .parameters()
    .map((p) => p.name)
    .filter((name) => !whole.includes(name));
  const v = validation(ctx.split.validation);
  const phases: Phase[] = [
    { name: 'shared tower frozen', data: ctx.split.train, train: trainable, freezeRows: frozenRows, fit: { validation: v } },
  ];
  if (o.sharedLr > 0)
    phases.push({
      name: `all, shared tower lr×${o.sharedLr}`,
      data: ctx.split.train,
      train: ['*'],
      lrMultipliers: Object.fromEntries(shared.map((p) => [p.name, o.sharedLr])),
      fit: { validation: v },
    });
  const reports = await runSchedule(targetModel, phases, towerFit({}));
  return { source: sourceModel, target: targetModel, shared: shared.map((p) => p.name), sourceReport, phases: reports };
}

/**
 * Source pre-training, early-stopped on a seeded 10% of the source rows. Cold users keep most of
 * their source rows; the rest only choose the epoch.
 */
async function pretrain(
  ctx: TransferContext,
  model: TwoTower,
  towerFit: (extra: TwoTowerFitOptions) => TwoTowerFitOptions,
  validation: (data: Interactions) => TwoTowerFitOptions['validation'],
): Promise<FitReport> {
  const data = ctx.sourceData;
  const held: number[] = [];
  const kept: number[] = [];
  let state = (ctx.seed * 2654435761 + 977) >>> 0;
  for (let i = 0; i < data.size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    (state / 2 ** 32 < 0.1 ? held : kept).push(i);
  }
  const rows = data.subset(Int32Array.from(kept));
  return Trainer.fitPartial(model, rows, towerFit({ validation: validation(data.subset(Int32Array.from(held))) }));
}

/**
 * Early stopping ranks every item for every validation user after each epoch, which costs more than
 * the epoch itself on catalogues of tens of thousands of items: a seeded sample of users decides
 * as well at a fraction of the cost.
 */
const VALIDATION_USERS = 1500;

/** The rows of at most `max` users of data (a seeded choice), or all of them. */
function someUsers(data: Interactions, max: number, seed: number): Interactions {
  const users = [...new Set(data.users)].sort((a, b) => a - b);
  if (users.length <= max) return data;
  const rand = uniformGenerator(seed + 0x70e7);
  for (let i = users.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [users[i], users[j]] = [users[j]!, users[i]!];
  }
  const keep = new Uint8Array(data.numUsers);
  for (const u of users.slice(0, max)) keep[u] = 1;
  return rowsByUserFlag(data, keep, true);
}

const embeddingIds = new WeakMap<object, number>();
let nextEmbeddingId = 1;

/** Options as a memo key; item embeddings by identity (two different ones never share a model). */
function memoKey(o: Resolved): string {
  let id: number | null = null;
  if (o.itemEmbeddings) {
    id = embeddingIds.get(o.itemEmbeddings) ?? nextEmbeddingId++;
    embeddingIds.set(o.itemEmbeddings, id);
  }
  return JSON.stringify({ ...o, itemEmbeddings: id });
}

/** A tower's shape (not its arrays) for memo keys. */
function describeTower(tower: TowerOptions): string {
  return `ids:${tower.idEmbedding !== false} features:${tower.features?.vocabulary ?? 0} dense:${tower.dense?.dim ?? 0}`;
}

function hasItemContent(tower: TowerOptions): boolean {
  return tower.features !== undefined || tower.dense !== undefined;
}

/**
 * With content in the item tower, item id rows start at zero: an item no batch ever reaches (a cold
 * item) is then scored by its content alone, not by noise. (Without content a zero row would have no
 * direction for cosine similarity to normalise.)
 */
function zeroItemIds(model: TwoTower): void {
  model
    .parameters()
    .find((p) => p.name === 'item.embedding')
    ?.table.data.fill(0);
}

function matches(name: string, pattern: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}
