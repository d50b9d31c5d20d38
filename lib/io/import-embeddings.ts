/**
 * Embedding tables from the Python world: .npy and .npz (numpy, implicit's saves) and safetensors
 * files written by PyTorch or Hugging Face (F32, F16, BF16, F64 become float32). The result is an
 * EmbeddingTable on shared memory, ready to initialise or freeze a model's parameter.
 */
import * as fs from 'node:fs/promises';

import type { Vocabulary } from '../data/vocabulary';
import { LimitExceededError } from '../core/errors';
import { EmbeddingTable } from '../core/table';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { type ByteSource, openByteSource } from './byte-source';
import { UnsupportedFileError } from './file-errors';
import { readIdList } from './id-list';
import { type FileLimits, INFLATE_RATIO_FLOOR, NPY_MAX_HEADER_BYTES, type ResolvedFileLimits, fileLimits } from './limits';
import { type NpyHeader, fileStream, readNpyFloat32, readNpyHeader } from './numpy/npy';
import { type ByteStream, type ZipEntry, entryStream, readZipDirectory } from './numpy/zip';
import { readHeaderFrom, readTensorsFrom, storedChecksums, toFloat32 } from './safetensors/read';

/** Every limit of FileLimits applies, to the format it concerns. */
export interface ImportEmbeddingsOptions extends FileLimits {
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

function checkTableShape(shape: readonly number[], path: string, name: string): void {
  if (shape.length !== 2 && shape.length !== 1)
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_FORMAT',
      path,
      `${path}: array ${JSON.stringify(name)} has shape (${shape.join(', ')}); an embedding table is 2-D (or 1-D for biases)`,
    );
  if (shape.length === 2 && shape[1] < 1)
    throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', path, `${path}: array ${JSON.stringify(name)} has no columns`);
}

function table(values: Float32Array, shape: readonly number[], path: string, name: string): EmbeddingTable {
  checkTableShape(shape, path, name);
  return new EmbeddingTable(values, shape.length === 2 ? shape[1] : 1);
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

/** The arrays of an .npy file or .npz archive, by name, their headers read but no elements. */
async function npyArrays(
  src: ByteSource,
  format: 'npy' | 'npz',
  wanted: string | undefined,
  limits: ResolvedFileLimits & { headerBytesSet: boolean },
): Promise<Map<string, { stream: ByteStream; header: NpyHeader; entry?: ZipEntry }>> {
  const maxHeaderBytes = limits.headerBytesSet ? limits.maxHeaderBytes : NPY_MAX_HEADER_BYTES;
  const out = new Map<string, { stream: ByteStream; header: NpyHeader; entry?: ZipEntry }>();
  if (format === 'npy') {
    const stream = fileStream(src);
    out.set('', { stream, header: await readNpyHeader(stream, maxHeaderBytes, limits.maxDims) });
    return out;
  }
  const entries = (await readZipDirectory(src, limits)).filter((e) => e.name.endsWith('.npy'));
  const names = new Set(entries.map((e) => e.name.slice(0, -4)));
  // With a name, only that entry is read: the others may be anything, a bomb included.
  const read = wanted !== undefined && names.has(wanted) ? entries.filter((e) => e.name.slice(0, -4) === wanted) : entries;
  if (wanted !== undefined && read.length !== 1) {
    throw rangeError('options.tensor', `one of ${[...names].map((k) => JSON.stringify(k)).join(', ')} (the arrays in ${src.path})`, wanted);
  }
  for (const entry of read) {
    const stream = await entryStream(src, entry);
    out.set(entry.name.slice(0, -4), { stream, header: await readNpyHeader(stream, maxHeaderBytes, limits.maxDims), entry });
  }
  return out;
}

/** A deflated entry may inflate to maxInflateRatio times its compressed size (small ones exempt). */
function checkInflateRatio(src: ByteSource, entry: ZipEntry, limits: ResolvedFileLimits): void {
  if (entry.method === 0 || entry.size <= INFLATE_RATIO_FLOOR) return;
  const ratio = entry.size / Math.max(1, entry.compressedSize);
  if (ratio > limits.maxInflateRatio)
    throw new LimitExceededError(
      src.path,
      'maxInflateRatio',
      limits.maxInflateRatio,
      `entry ${entry.name} would inflate from ${entry.compressedSize} to ${entry.size} bytes (${Math.round(ratio)} times)`,
    );
}

export async function importEmbeddings(path: string, options?: ImportEmbeddingsOptions): Promise<ImportedEmbeddings> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const o = expectOptions('options', options);
  if (o.tensor !== undefined && typeof o.tensor !== 'string') throw typeError('options.tensor', 'string', o.tensor);
  if (o.ids !== undefined && typeof o.ids !== 'string') throw typeError('options.ids', 'path string', o.ids);
  if (o.format !== undefined && !['npy', 'npz', 'safetensors'].includes(o.format))
    throw rangeError('options.format', '"npy", "npz" or "safetensors"', o.format);
  const limits = fileLimits(o);
  const format = o.format ?? (await sniff(path));
  let result: ImportedEmbeddings;
  if (format === 'safetensors') {
    const handle = await fs.open(path, 'r');
    try {
      const header = await readHeaderFrom(handle, path, limits);
      const floats = new Set(['F32', 'F16', 'BF16', 'F64']);
      const entries = new Map(header.tensors.filter((t) => !t.name.startsWith('__padding__.')).map((t) => [t.name, t]));
      const [name, entry] = pick(path, entries, o.tensor, (t) => t.shape.length === 2 && floats.has(t.dtype));
      const checksums = storedChecksums(header, limits);
      const loaded = (await readTensorsFrom(handle, header, new Set([name]), checksums)).get(name)!;
      result = { table: table(toFloat32(loaded, path), entry.shape, path, name), name, sourceDtype: entry.dtype };
    } finally {
      await handle.close();
    }
  } else {
    const src = await openByteSource(path);
    try {
      const arrays = await npyArrays(src, format, format === 'npy' ? undefined : o.tensor, limits);
      const [name, a] = pick(
        path,
        arrays,
        format === 'npy' ? undefined : o.tensor,
        (x) => x.header.shape.length === 2 && /f\d$/.test(x.header.descr),
      );
      // The shape is known from the header: refuse what cannot be a table before reading elements.
      checkTableShape(a.header.shape, path, name);
      if (a.entry) checkInflateRatio(src, a.entry, limits);
      result = { table: table(await readNpyFloat32(a.stream, a.header), a.header.shape, path, name), name, sourceDtype: a.header.descr };
    } finally {
      await src.close();
    }
  }
  if (o.ids !== undefined) {
    const ids = await readIdList(o.ids, { maxIdBytes: limits.maxIdBytes });
    if (ids.size !== result.table.rows)
      throw rangeError('options.ids', `an id list with one id per row (${result.table.rows})`, `${o.ids} with ${ids.size} ids`);
    result.ids = ids;
  }
  return result;
}
