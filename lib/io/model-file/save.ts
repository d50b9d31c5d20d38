/**
 * saveModel: a model, its vocabularies and (optionally) its optimizer state as one safetensors
 * file, written atomically.
 */
import type { Vocabulary } from '../../data/vocabulary';
import { expectBoolean, expectOptions, rangeError, typeError } from '../../core/validate';
import { scanJson } from '../json-scan';
import { DEFAULT_FILE_LIMITS } from '../limits';
import { writeSafetensors } from '../safetensors/write';
import { INLINE_VOCABULARY_BYTES, KEY, vocabularyTensor, type VocabularyRecord } from './metadata';
import { modelToTensors, modelKind, type SavableModel } from './model-tensors';

export interface SaveModelOptions {
  /**
   * External ids of the rows, stored in the file so that loadModel gives them back. Each must have
   * exactly as many ids as the model has users / items.
   */
  vocabularies?: { users?: Vocabulary; items?: Vocabulary };
  /**
   * Save each parameter's optimizer state (Adagrad accumulators, Adam moments), so that training
   * resumes exactly where it stopped. Default true. false gives a smaller file for serving.
   */
  optimizerState?: boolean;
  /** Anything JSON-serialisable describing how the model was made (data, commit, metrics…). */
  provenance?: Record<string, unknown>;
}

export interface SaveModelReport {
  path: string;
  /** File size in bytes. */
  bytes: number;
  /** Wall time of the save, in seconds (including fsync). */
  seconds: number;
}

function vocabularyIds(argument: string, v: unknown, rows: number): string[] {
  if (v === null || typeof v !== 'object' || typeof (v as Vocabulary).toArray !== 'function') throw typeError(argument, 'Vocabulary', v);
  const ids = (v as Vocabulary).toArray();
  if (ids.length !== rows) throw rangeError(argument, `a vocabulary of ${rows} ids (one per row)`, `${ids.length} ids`);
  return ids;
}

/**
 * Writes the model to path (a safetensors file; see metadata.ts for its contents). The file is
 * replaced atomically: readers see the old file or the new one, never a mix, even after a crash.
 * The model is busy while its tables are written (training cannot start meanwhile, and a save
 * during training fails with ERR_BUSY instead of writing a torn snapshot).
 */
export async function saveModel(path: string, model: SavableModel, options?: SaveModelOptions): Promise<SaveModelReport> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  modelKind(model);
  const o = expectOptions('options', options);
  const withOptimizer = o.optimizerState === undefined ? true : expectBoolean('options.optimizerState', o.optimizerState);
  const vocabularies: { users?: string[]; items?: string[] } = {};
  if (o.vocabularies !== undefined) {
    const v = expectOptions('options.vocabularies', o.vocabularies);
    if (v.users !== undefined) vocabularies.users = vocabularyIds('options.vocabularies.users', v.users, model.users);
    if (v.items !== undefined) vocabularies.items = vocabularyIds('options.vocabularies.items', v.items, model.items);
  }
  let provenance = 'null';
  if (o.provenance !== undefined) {
    if (o.provenance === null || typeof o.provenance !== 'object')
      throw typeError('options.provenance', 'JSON-serialisable object', o.provenance);
    try {
      provenance = JSON.stringify(o.provenance);
    } catch (err) {
      throw typeError('options.provenance', `JSON-serialisable object (${(err as Error).message})`, o.provenance);
    }
    // A file must load with the default limits: refuse what loadModel would refuse.
    const { maxJsonDepth, maxJsonValues } = DEFAULT_FILE_LIMITS;
    if (scanJson(provenance, { maxDepth: maxJsonDepth, maxValues: maxJsonValues }).passed !== null)
      throw rangeError(
        'options.provenance',
        `JSON nested at most ${maxJsonDepth} levels deep with at most ${maxJsonValues} values (what loadModel reads by default)`,
        o.provenance,
      );
  }
  const started = process.hrtime.bigint();
  const release = model.acquire('saveModel');
  try {
    const { tensors, metadata } = modelToTensors(model, withOptimizer);
    const records: Record<string, VocabularyRecord> = {};
    for (const [side, ids] of Object.entries(vocabularies)) {
      const text = Buffer.from(JSON.stringify(ids), 'utf8');
      if (text.length <= INLINE_VOCABULARY_BYTES) {
        records[side] = ids;
        continue;
      }
      // Before the optimizer state, so that a load for serving still reads one prefix of the file.
      const at = tensors.findIndex((t) => t.name.startsWith('optimizer.'));
      const name = vocabularyTensor(side);
      tensors.splice(at < 0 ? tensors.length : at, 0, {
        name,
        dtype: 'U8',
        shape: [text.length],
        bytes: new Uint8Array(text.buffer, text.byteOffset, text.length),
      });
      records[side] = { tensor: name, count: ids.length };
    }
    metadata[KEY.vocabularies] = JSON.stringify(records);
    metadata[KEY.provenance] = provenance;
    metadata[KEY.savedBy] = JSON.stringify({ library: 'recbridge', node: process.version, savedAt: new Date().toISOString() });
    const bytes = await writeSafetensors(path, tensors, metadata);
    return { path, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    release();
  }
}
