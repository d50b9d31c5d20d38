/**
 * loadModel: verifies a model file completely (header bounds, JSON, dtypes, shapes, offsets,
 * format version, the header's and every read tensor's checksum) before it builds the model, then
 * builds it around views of one SharedArrayBuffer: no per-table copies, and the tables are ready for
 * training in worker threads. inspectModel reads the header only.
 */
import * as fs from 'node:fs/promises';

import { Vocabulary } from '../../data/vocabulary';
import { MatrixFactorization, type MatrixFactorizationOptions } from '../../models/matrix-factorization';
import { withAdoptedTables } from '../../models/parameter';
import { TwoTower, type TowerOptions, type TwoTowerOptions } from '../../models/two-tower';
import { EmbeddingTable } from '../../core/table';
import { expectBoolean, expectOptions, typeError } from '../../core/validate';
import { CorruptFileError } from '../file-errors';
import { scanJson } from '../json-scan';
import { type FileLimits, fileLimits } from '../limits';
import { PADDING_PREFIX, elementCount } from '../safetensors/format';
import { headerOfBytes, readHeaderFrom, readTensorsFrom, tensorsOfBytes, typedView, type LoadedTensor } from '../safetensors/read';
import { bagTensors, denseTensor, frozenTensor, optimizerTensor, type ModelKind, type ParameterRecord, type TowerConfig } from './metadata';
import { readModelHeader, type ModelHeader } from './read-metadata';

/** The limits of the header and its JSON (see FileLimits); maxInflateRatio and maxIdBytes do not apply. */
export type InspectModelOptions = Pick<FileLimits, 'maxHeaderBytes' | 'maxJsonDepth' | 'maxJsonValues' | 'maxTensors' | 'maxDims'>;

export interface LoadModelOptions extends InspectModelOptions {
  /**
   * Skip the optimizer state (it is neither read nor checked): a faster, smaller load for scoring.
   * The model still trains, with fresh optimizer state. Default false.
   */
  forServing?: boolean;
}

export interface LoadedModel {
  model: MatrixFactorization | TwoTower;
  kind: ModelKind;
  /** The external ids saved with the model (absent sides are undefined). */
  vocabularies: { users?: Vocabulary; items?: Vocabulary };
  /** What saveModel's caller passed as provenance, or null. */
  provenance: unknown;
  /** Library, Node version and time of the save. */
  savedBy: unknown;
  formatVersion: number;
  /** Whether optimizer state was restored (false with forServing or when none was saved). */
  optimizerState: boolean;
  /** Bytes read from the file, header included. */
  bytesRead: number;
}

/** A summary of a model file from its header alone (nothing else is read). */
export interface ModelFileInfo {
  path: string;
  fileSize: number;
  formatVersion: number;
  kind: ModelKind;
  config: Record<string, unknown>;
  parameters: Record<string, ParameterRecord>;
  epochsTrained: number;
  vocabularySizes: { users?: number; items?: number };
  provenance: unknown;
  savedBy: unknown;
  tensors: { name: string; dtype: string; shape: number[]; bytes: number }[];
}

export async function inspectModel(path: string, options?: InspectModelOptions): Promise<ModelFileInfo> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const limits = fileLimits(options as FileLimits);
  const handle = await fs.open(path, 'r');
  try {
    return summary(readModelHeader(await readHeaderFrom(handle, path, limits), limits));
  } finally {
    await handle.close();
  }
}

export async function loadModel(path: string, options?: LoadModelOptions): Promise<LoadedModel> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const forServing = forServingOf(options);
  const limits = fileLimits(options as FileLimits);
  const handle = await fs.open(path, 'r');
  try {
    const mh = readModelHeader(await readHeaderFrom(handle, path, limits), limits);
    return loaded(mh, await readTensorsFrom(handle, mh.header, wantedTensors(mh, forServing), mh.checksums), forServing);
  } finally {
    await handle.close();
  }
}

/**
 * loadModel and inspectModel for a whole file already in memory, synchronously, with the same
 * checks and errors (`name` stands for the path). The fuzz target runs through these: the file
 * versions differ only in where the bytes come from.
 */
export function loadModelBytes(bytes: Uint8Array, name: string, options?: LoadModelOptions): LoadedModel {
  const forServing = forServingOf(options);
  const limits = fileLimits(options as FileLimits);
  const mh = readModelHeader(headerOfBytes(bytes, name, limits), limits);
  return loaded(mh, tensorsOfBytes(bytes, mh.header, wantedTensors(mh, forServing), mh.checksums), forServing);
}

export function inspectModelBytes(bytes: Uint8Array, name: string, options?: InspectModelOptions): ModelFileInfo {
  const limits = fileLimits(options as FileLimits);
  return summary(readModelHeader(headerOfBytes(bytes, name, limits), limits));
}

function summary(mh: ModelHeader): ModelFileInfo {
  return {
    path: mh.header.path,
    fileSize: mh.header.fileSize,
    formatVersion: mh.formatVersion,
    kind: mh.kind,
    config: mh.config,
    parameters: mh.parameters,
    epochsTrained: mh.epochsTrained,
    vocabularySizes: Object.fromEntries(Object.entries(mh.vocabularies).map(([k, v]) => [k, Array.isArray(v) ? v.length : v.count])),
    provenance: mh.provenance,
    savedBy: mh.savedBy,
    tensors: mh.header.tensors
      .filter((t) => !t.name.startsWith(PADDING_PREFIX))
      .map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin })),
  };
}

function forServingOf(options: LoadModelOptions | undefined): boolean {
  const o = expectOptions('options', options);
  return o.forServing === undefined ? false : expectBoolean('options.forServing', o.forServing);
}

function wantedTensors(mh: ModelHeader, forServing: boolean): Set<string> {
  return new Set(
    mh.header.tensors.map((t) => t.name).filter((n) => !forServing || !(n.startsWith('optimizer.') || n.startsWith(PADDING_PREFIX))),
  );
}

function loaded(mh: ModelHeader, tensors: Map<string, LoadedTensor>, forServing: boolean): LoadedModel {
  let bytesRead = mh.header.dataStart;
  for (const t of tensors.values()) bytesRead += t.bytes.length;
  return { ...build(mh, tensors, forServing), bytesRead };
}

/**
 * The ids a vocabulary tensor holds: a JSON array of exactly `rows` strings. Its shape is checked
 * on the bytes first (one level, no more elements than rows), so that what JSON.parse builds is
 * never larger than the vocabulary the model needs.
 */
function vocabularyIds(t: LoadedTensor, rows: number, path: string): unknown {
  const corrupt = (detail: string, cause?: unknown) => new CorruptFileError(path, detail, { cause });
  const what = `tensor ${JSON.stringify(t.name)}`;
  const { shape, passed } = scanJson(t.bytes, { maxDepth: 1, maxValues: rows + 1, maxMembers: rows });
  if (passed !== null || shape.depth !== 1) throw corrupt(`${what} does not hold a JSON list of ${rows} string ids`);
  try {
    return JSON.parse(Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw corrupt(`${what} does not hold a JSON list of ids`, err);
  }
}

/** The index of the first NaN or ±Infinity, or -1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
    if (x - x !== 0) return i;
  }
  return -1;
}

function build(mh: ModelHeader, loaded: Map<string, LoadedTensor>, forServing: boolean): Omit<LoadedModel, 'bytesRead'> {
  const { path } = mh.header;
  const corrupt = (detail: string, cause?: unknown) => new CorruptFileError(path, detail, { cause });
  const get = (name: string) => loaded.get(name)!;
  const tables = new Map<string, EmbeddingTable>();
  for (const name of Object.keys(mh.parameters)) {
    const t = get(name);
    if (t.shape[1] < 1)
      throw corrupt(`tensor ${JSON.stringify(name)} has shape ${JSON.stringify(t.shape)}; a parameter needs at least one column`);
    const values = typedView(t, path) as Float32Array;
    // A NaN or infinite weight would load and then fail, or score NaN, far from here: refuse it now.
    const bad = firstNonFinite(values);
    if (bad >= 0)
      throw corrupt(
        `tensor ${JSON.stringify(name)} holds ${values[bad]} at row ${Math.floor(bad / t.shape[1])}, column ${bad % t.shape[1]} (weights must be finite)`,
      );
    tables.set(name, new EmbeddingTable(values, t.shape[1]));
  }
  const tower = (side: 'user' | 'item'): TowerOptions => {
    const c = mh.config[side] as TowerConfig;
    const out: TowerOptions = { idEmbedding: c.idEmbedding, mlp: c.mlp };
    if (c.features) {
      const names = bagTensors(side);
      out.features = {
        vocabulary: c.features.vocabulary,
        bags: { offsets: typedView(get(names.offsets), path) as Int32Array, indices: typedView(get(names.indices), path) as Int32Array },
      };
    }
    if (c.dense) {
      const t = get(denseTensor(side));
      if (t.shape[1] !== c.dense.dim)
        throw corrupt(`tensor ${JSON.stringify(t.name)} has shape ${JSON.stringify(t.shape)} but the config says dense dim ${c.dense.dim}`);
      out.dense = { values: typedView(t, path) as Float32Array, dim: c.dense.dim };
    }
    return out;
  };
  let model: MatrixFactorization | TwoTower;
  try {
    model = withAdoptedTables(tables, () =>
      mh.kind === 'two-tower'
        ? new TwoTower({ ...(mh.config as unknown as TwoTowerOptions), user: tower('user'), item: tower('item') })
        : new MatrixFactorization(mh.config as unknown as MatrixFactorizationOptions),
    );
  } catch (err) {
    throw corrupt(`its config and tensors do not describe a valid ${mh.kind} model (${(err as Error).message})`, err);
  }
  const names = model.parameters().map((p) => p.name);
  if (names.length !== tables.size || names.some((n) => !tables.has(n))) {
    throw corrupt(
      `its parameters (${[...tables.keys()].join(', ')}) are not those of the model its config describes (${names.join(', ')})`,
    );
  }
  let optimizerState = false;
  for (const p of model.parameters()) {
    const r = mh.parameters[p.name];
    p.trainable = r.trainable;
    p.lrMultiplier = r.lrMultiplier;
    if (r.frozenRows) {
      const flags = get(frozenTensor(p.name));
      if (flags.shape[0] !== p.rows) throw corrupt(`tensor ${JSON.stringify(flags.name)} has ${flags.shape[0]} flags for ${p.rows} rows`);
      const rows: number[] = [];
      for (let i = 0; i < flags.bytes.length; i++) {
        if (flags.bytes[i] > 1)
          throw corrupt(`tensor ${JSON.stringify(flags.name)} holds ${flags.bytes[i]} at row ${i}; frozen flags are 0 or 1`);
        if (flags.bytes[i]) rows.push(i);
      }
      p.freezeRows(Int32Array.from(rows));
    }
    if (r.optimizer && !forServing) {
      const state = get(optimizerTensor(p.name));
      try {
        p.restoreOptimizerState(r.optimizer, typedView(state, path) as Float32Array);
      } catch (err) {
        throw corrupt(
          `tensor ${JSON.stringify(state.name)} (${elementCount(state.shape)} values) does not fit ${r.optimizer} state of ${p.name}`,
          err,
        );
      }
      optimizerState = true;
    }
  }
  model.epochsTrained = mh.epochsTrained;
  const vocabularies: LoadedModel['vocabularies'] = {};
  for (const side of ['users', 'items'] as const) {
    const record = mh.vocabularies[side];
    if (!record) continue;
    const rows = side === 'users' ? model.users : model.items;
    let ids: unknown = record;
    if (!Array.isArray(record)) {
      ids = vocabularyIds(get(record.tensor), rows, path);
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string') || ids.length !== record.count) {
        throw corrupt(`tensor ${JSON.stringify(record.tensor)} does not hold a list of ${record.count} string ids`);
      }
    }
    if (!Array.isArray(ids)) continue;
    if (ids.length !== rows) throw corrupt(`its ${side} vocabulary has ${ids.length} ids for ${rows} rows`);
    const v = new Vocabulary(ids);
    if (v.size !== ids.length) throw corrupt(`its ${side} vocabulary lists an id twice`);
    vocabularies[side] = v;
  }
  return {
    model,
    kind: mh.kind,
    vocabularies,
    provenance: mh.provenance,
    savedBy: mh.savedBy,
    formatVersion: mh.formatVersion,
    optimizerState,
  };
}
