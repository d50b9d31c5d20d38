/**
 * Opening an ONNX model the caller provides. onnxruntime parses the file natively and bounds what
 * it builds (protobuf nesting, initializer sizes, external data inside the model's folder), but it
 * throws plain errors without a code; here they become recbridge's file errors, so a service can
 * tell a broken or foreign model from a failure of its own.
 */
import * as fs from 'node:fs/promises';

import { CorruptFileError, UnsupportedFileError } from '../file-errors';
import type { OrtModule, OrtSession } from './runtime';

/** An onnxruntime session on a model file or its bytes, or a coded error saying why not. */
export async function openOnnxSession(ort: OrtModule, model: string | Uint8Array, options: Record<string, unknown>): Promise<OrtSession> {
  const name = typeof model === 'string' ? model : 'the ONNX model (bytes)';
  // A missing file stays Node's ENOENT, as for every other reader.
  if (typeof model === 'string') await fs.stat(model);
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (err) {
    const message = String((err as Error)?.message ?? err);
    if (/protobuf parsing failed/i.test(message))
      throw new CorruptFileError(name, 'it is not an ONNX model (its protobuf does not parse)', { cause: err });
    throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', name, `${name}: onnxruntime cannot load this model (${message})`);
  }
}
