/**
 * General safetensors access for interop (any file, not only recbridge models): read some or all
 * tensors as typed arrays, or write typed arrays that PyTorch's safetensors.torch.load_file reads.
 */
import * as fs from 'node:fs/promises';
import { types } from 'node:util';

import { expectOptions, rangeError, typeError } from '../../core/validate';
import { type FileLimits, fileLimits } from '../limits';
import { PADDING_PREFIX, type Dtype } from './format';
import { readHeaderFrom, readTensorsFrom, storedChecksums, toFloat32, typedView } from './read';
import { bytesOf, writeSafetensors } from './write';

export interface SafetensorsTensor {
  dtype: Dtype;
  shape: number[];
  /** F32/F64/I32/I64/U8/BOOL as their typed arrays; F16 and BF16 converted to Float32Array. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface ReadSafetensorsOptions
  extends Pick<FileLimits, 'maxHeaderBytes' | 'maxJsonDepth' | 'maxJsonValues' | 'maxTensors' | 'maxDims'> {
  /** The tensors to read. Default: all. */
  names?: readonly string[];
}

/**
 * Reads tensors (all, or options.names) and the metadata. Checksums written by recbridge are
 * verified; files from other writers have none and are read as they are.
 */
export async function readSafetensors(
  path: string,
  options?: ReadSafetensorsOptions,
): Promise<{ tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> }> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const o = expectOptions('options', options);
  const limits = fileLimits(o);
  if (o.names !== undefined && !Array.isArray(o.names)) throw typeError('options.names', 'array of tensor names', o.names);
  const handle = await fs.open(path, 'r');
  try {
    const header = await readHeaderFrom(handle, path, limits);
    const all = header.tensors.filter((t) => !t.name.startsWith(PADDING_PREFIX)).map((t) => t.name);
    const known = new Set(all);
    const names = o.names === undefined ? all : [...o.names];
    for (const n of names) if (!known.has(n)) throw rangeError('options.names', `names of tensors in ${path} (${listed(all)})`, n);
    const checksums = storedChecksums(header, limits);
    const loaded = await readTensorsFrom(handle, header, new Set(names), checksums);
    const tensors = new Map<string, SafetensorsTensor>();
    for (const n of names) {
      const t = loaded.get(n)!;
      const data = t.dtype === 'F16' || t.dtype === 'BF16' ? toFloat32(t, path) : typedView(t, path);
      tensors.set(n, { dtype: t.dtype, shape: t.shape, data });
    }
    return { tensors, metadata: header.metadata ?? {} };
  } finally {
    await handle.close();
  }
}

/** Names for a message: all of them when few, else the first ten and a count. */
function listed(names: readonly string[]): string {
  return names.length <= 10 ? names.join(', ') : `${names.slice(0, 10).join(', ')}, … ${names.length} in all`;
}

/** Writes typed arrays (Float32Array → F32, Float64Array → F64, Int32Array → I32, BigInt64Array → I64, Uint8Array → U8) atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Readonly<
    Record<string, { data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array; shape: readonly number[] }>
  >,
  metadata: Record<string, string> = {},
): Promise<number> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const list = Object.entries(expectOptions('tensors', tensors)).map(([name, t]) => {
    const d = t?.data;
    const dtype: Dtype | null = types.isFloat32Array(d)
      ? 'F32'
      : types.isFloat64Array(d)
        ? 'F64'
        : types.isInt32Array(d)
          ? 'I32'
          : types.isBigInt64Array(d)
            ? 'I64'
            : types.isUint8Array(d)
              ? 'U8'
              : null;
    if (!dtype) throw typeError(`tensors.${name}.data`, 'Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array', d);
    if (!Array.isArray(t!.shape)) throw typeError(`tensors.${name}.shape`, 'array of sizes', t!.shape);
    return { name, dtype, shape: t!.shape, bytes: bytesOf(d!) };
  });
  return writeSafetensors(path, list, metadata);
}
