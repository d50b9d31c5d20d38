/**
 * onnxruntime-node, loaded on first use only: recbridge's core never needs it, so importing
 * recbridge must work without it, and the functions that do need it say how to install it.
 * The interfaces below are the small part of its API recbridge uses (declared here so that
 * recbridge's type declarations do not require the package either).
 */
import { RecbridgeError } from '../../core/errors';

export interface OrtTensor {
  readonly dims: readonly number[];
  readonly type: string;
  readonly data: unknown;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** onnxruntime ≥ 1.21. */
  readonly inputMetadata?: readonly { name: string; isTensor: boolean; type?: string }[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtModule {
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
}

let cached: OrtModule | null = null;

export const INSTALL_HINT =
  'Install it next to recbridge with `npm install onnxruntime-node`; offline or behind a firewall, skip its install-time ' +
  'download with `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` (the CPU runtime ships in the package).';

/** The onnxruntime-node module, or ERR_OPTIONAL_DEPENDENCY saying how to install it. */
export function loadOnnxRuntime(feature: string): OrtModule {
  if (cached) return cached;
  try {
    // A plain require inside the function: the package is resolved on the first call, not at import.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('onnxruntime-node') as OrtModule;
    return cached;
  } catch (err) {
    throw new RecbridgeError(
      'ERR_OPTIONAL_DEPENDENCY',
      `${feature} needs the optional package onnxruntime-node, which could not be loaded (${(err as Error).message.split('\n')[0]}). ${INSTALL_HINT}`,
      {
        cause: err,
      },
    );
  }
}
