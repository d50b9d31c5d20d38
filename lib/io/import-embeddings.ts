/**
 * Embedding tables from the Python world: .npy and .npz (numpy, implicit's saves) and safetensors
 * files written by PyTorch or Hugging Face (F32, F16, BF16, F64 become float32). The result is an
 * EmbeddingTable on shared memory, ready to initialise or freeze a model's parameter.
 */
import * as fs from 'node:fs/promises';

import type { Vocabulary } from '../data/vocabulary';
import { EmbeddingTable } from '../core/table';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { CorruptFileError, UnsupportedFileError } from './file-errors';
import { readIdList } from './id-list';
import { npyToFloat32, parseNpy, type NpyArray } from './numpy/npy';
import { readZip } from './numpy/zip';
import { readHeaderFrom, readTensorsFrom, toFloat32 } from './safetensors/read';
import { CHECKSUMS_KEY } from './safetensors/write';

export interface ImportEmbeddingsOptions {
  /**
   * Which array: the key in an .npz (e.g. "item_factors") or the tensor name in a safetensors file
   * (e.g. "item.embedding"). Optional when the file holds exactly one 2-D array.
   */
  tensor?: string;
  /** A text file with one id per line (row order); its length must equal the table's rows. */
  ids?: string;
  /** 'npy' | 'npz' | 'safetensors'. Default: from the file's first bytes. */
  format?: 'npy' | 'npz' | 'safetensors';
}

export interface ImportedEmbeddings {
  table: EmbeddingTable;
  /** The row ids, when options.ids was given. */
  ids?: Vocabulary;
  /** The array's name in the file ("" for .npy). */
  name: string;
  /** Its element type in the file (numpy descr or safetensors dtype). */
  sourceDtype: string;
}

async function sniff(path: string): Promise<'npy' | 'npz' | 'safetensors'> {
  const handle = await fs.open(path, 'r');
  try {
    const head = new Uint8Array(9);
    const { bytesRead } = await handle.read(head, 0, 9, 0);
    if (bytesRead >= 6 && head[0] === 0x93 && String.fromCharCode(...head.subarray(1, 6)) === 'NUMPY') return 'npy';
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b) return 'npz';
    if (bytesRead === 9 && head[8] === 0x7b) return 'safetensors';
  } finally {
    await handle.close();
  }
  throw new UnsupportedFileError(
    'ERR_UNSUPPORTED_FORMAT',
    path,
    `${path} is neither .npy, .npz nor safetensors (by its first bytes); pass options.format if it is one of them`,
  );
}

function table(values: Float32Array, shape: readonly number[], path: string, name: string): EmbeddingTable {
  if (shape.length !== 2 && shape.length !== 1)
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_FORMAT',
      path,
      `${path}: array ${JSON.stringify(name)} has shape (${shape.join(', ')}); an embedding table is 2-D (or 1-D for biases)`,
    );
  const dim = shape.length === 2 ? shape[1] : 1;
  if (dim < 1) throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', path, `${path}: array ${JSON.stringify(name)} has no columns`);
  return new EmbeddingTable(values, dim);
}

function pick<T>(path: string, available: Map<string, T>, wanted: string | undefined, is2d: (t: T) => boolean): [string, T] {
  if (wanted !== undefined) {
    const t = available.get(wanted);
    if (!t)
      throw rangeError(
        'options.tensor',
        `one of ${[...available.keys()].map((k) => JSON.stringify(k)).join(', ')} (the arrays in ${path})`,
        wanted,
      );
    return [wanted, t];
  }
  const candidates = [...available].filter(([, t]) => is2d(t));
  if (candidates.length !== 1) {
    throw rangeError(
      'options.tensor',
      `the name of the array to import (${path} holds ${[...available.keys()].map((k) => JSON.stringify(k)).join(', ')})`,
      wanted,
    );
  }
  return candidates[0];
}

export async function importEmbeddings(path: string, options?: ImportEmbeddingsOptions): Promise<ImportedEmbeddings> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const o = expectOptions('options', options);
  if (o.tensor !== undefined && typeof o.tensor !== 'string') throw typeError('options.tensor', 'string', o.tensor);
  if (o.ids !== undefined && typeof o.ids !== 'string') throw typeError('options.ids', 'path string', o.ids);
  if (o.format !== undefined && !['npy', 'npz', 'safetensors'].includes(o.format))
    throw rangeError('options.format', '"npy", "npz" or "safetensors"', o.format);
  const format = o.format ?? (await sniff(path));
  let result: ImportedEmbeddings;
  if (format === 'safetensors') {
    const handle = await fs.open(path, 'r');
    try {
      const header = await readHeaderFrom(handle, path);
      const floats = new Set(['F32', 'F16', 'BF16', 'F64']);
      const entries = new Map(header.tensors.filter((t) => !t.name.startsWith('__padding__.')).map((t) => [t.name, t]));
      const [name, entry] = pick(path, entries, o.tensor, (t) => t.shape.length === 2 && floats.has(t.dtype));
      let checksums: Record<string, string> | null = null;
      const text = header.metadata?.[CHECKSUMS_KEY];
      if (text !== undefined) {
        try {
          checksums = JSON.parse(text) as Record<string, string>;
        } catch {
          throw new CorruptFileError(path, `${CHECKSUMS_KEY} is not valid JSON`);
        }
      }
      const loaded = (await readTensorsFrom(handle, header, new Set([name]), checksums)).get(name)!;
      result = { table: table(toFloat32(loaded, path), entry.shape, path, name), name, sourceDtype: entry.dtype };
    } finally {
      await handle.close();
    }
  } else {
    const bytes = new Uint8Array(await fs.readFile(path));
    let arrays: Map<string, NpyArray>;
    if (format === 'npy') arrays = new Map([['', parseNpy(bytes, path)]]);
    else
      arrays = new Map(
        readZip(bytes, path)
          .filter((e) => e.name.endsWith('.npy'))
          .map((e) => [e.name.slice(0, -4), parseNpy(e.data, `${path}:${e.name}`)]),
      );
    const [name, a] = pick(path, arrays, format === 'npy' ? undefined : o.tensor, (x) => x.shape.length === 2 && /f\d$/.test(x.descr));
    const source = format === 'npy' ? path : `${path}:${name}.npy`;
    result = { table: table(npyToFloat32(a, source), a.shape, path, name), name, sourceDtype: a.descr };
  }
  if (o.ids !== undefined) {
    const ids = await readIdList(o.ids);
    if (ids.size !== result.table.rows)
      throw rangeError('options.ids', `an id list with one id per row (${result.table.rows})`, `${o.ids} with ${ids.size} ids`);
    result.ids = ids;
  }
  return result;
}
