// One complete MfChunkSpec for tests that call the addon's mfChunk directly: a single BPR sample on
// one thread with SGD, every field set, so a test overrides only what it is about.
import type { MfChunkSpec } from '../../lib/core/native';
import { MfLoss, OptimizerKind, SamplerKind, mfRecordStride } from '../../lib/core/native-constants';

export const sharedInt32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

export function mfChunkSpec(overrides: Partial<MfChunkSpec> & Pick<MfChunkSpec, 'user' | 'item'>): MfChunkSpec {
  return {
    loss: MfLoss.bpr,
    sampler: { kind: SamplerKind.uniform },
    maxRejections: 20,
    users: sharedInt32(1),
    items: sharedInt32(1),
    values: null,
    posOffsets: null,
    posIndices: null,
    records: sharedInt32(mfRecordStride(MfLoss.bpr, false, SamplerKind.uniform)),
    optimizer: OptimizerKind.sgd,
    bias: null,
    begin: 0,
    end: 1,
    lr: 0.01,
    l2: 0,
    eps: 1e-8,
    beta1: 0.9,
    beta2: 0.999,
    seed: 0,
    epoch: 0,
    chunk: 0,
    threads: 1,
    negatives: 1,
    warpMaxTrials: 10,
    margin: 1,
    cancel: null,
    ...overrides,
  };
}
