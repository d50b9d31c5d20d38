// lib/core/native-constants.ts mirrors native/kernels/constants.h: the ids must be equal on both
// sides, and the sizes lib/ allocates must be the ones the addon checks. A value changed on one side
// only fails here.
import { mfChunkSpec } from '../support/mf-chunk-spec';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { native, type MfChunkSpec, type MfRecordsSpec, type NativeTowerParam, type TwoTowerChunkSpec } from '../../lib/core/native';
import * as constants from '../../lib/core/native-constants';
import {
  DenseOptimizer,
  MfLoss,
  OptimizerKind,
  SamplerKind,
  Similarity,
  mfRecordStride,
  optimizerStateSize,
} from '../../lib/core/native-constants';

const header = fs.readFileSync(path.resolve(__dirname, '../../native/kernels/constants.h'), 'utf8').replace(/\/\/.*$/gm, '');

/** RowwiseAdagrad → 'rowwise-adagrad'. */
const kebab = (enumerator: string) => enumerator.replace(/(?<=.)([A-Z])/g, '-$1').toLowerCase();

function cppEnums(): Record<string, Record<string, number>> {
  const enums = [...header.matchAll(/enum class (\w+) : int \{([^}]*)\};/g)];
  // Every enum must be on the pattern this reads, or it would be skipped silently.
  expect(enums).toHaveLength([...header.matchAll(/\benum\b/g)].length);
  return Object.fromEntries(
    enums.map(([, name, body]) => [
      name,
      Object.fromEntries([...body.matchAll(/(\w+)\s*=\s*(-?\d+)/g)].map(([, e, v]) => [kebab(e), Number(v)])),
    ]),
  );
}

test('every enum of constants.h has a TypeScript object with the same name, keys and values, and no other exists', () => {
  const cpp = cppEnums();
  const ts = Object.fromEntries(Object.entries(constants).filter(([, v]) => typeof v === 'object'));
  expect(Object.keys(cpp).length).toBeGreaterThanOrEqual(8);
  expect(ts).toEqual(cpp);
});

const shared = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));
const sharedFloats = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
const sharedOf = (...xs: number[]) => {
  const a = shared(xs.length);
  a.set(xs);
  return a;
};

/** The length the addon asked for, from its error ("Expected … of length N but it has M"). */
function wantedLength(fn: () => unknown, argument: string): number {
  try {
    fn();
  } catch (err) {
    const e = err as { argument?: string; message: string };
    expect(e.argument).toBe(argument);
    return Number(/of length (\d+)/.exec(e.message)?.[1]);
  }
  throw new Error(`no error for ${argument}`);
}

const ROWS = 3;
const DIM = 4;

test('optimizerStateSize is the state length the matrix-factorization binding checks', async () => {
  const param = (state: Float32Array | null) => ({ w: sharedFloats(ROWS * DIM), dim: DIM, state, frozen: null, lrMult: 1 });
  const spec = (optimizer: OptimizerKind, state: Float32Array | null): MfChunkSpec =>
    mfChunkSpec({ optimizer, user: param(state), item: param(null) });
  for (const kind of [OptimizerKind.adagrad, OptimizerKind['rowwise-adagrad'], OptimizerKind.adam]) {
    const want = optimizerStateSize(kind, ROWS, DIM);
    expect(want).toBeGreaterThan(0);
    expect(wantedLength(() => native.mfChunk(spec(kind, sharedFloats(want + 1))), 'spec.user.state')).toBe(want);
  }
  // SGD keeps none: no state is asked for.
  expect(optimizerStateSize(OptimizerKind.sgd, ROWS, DIM)).toBe(0);
  await expect(native.mfChunk(spec(OptimizerKind.sgd, null))).resolves.toMatchObject({ cancelled: false });
});

test('optimizerStateSize is the state length the two-tower binding checks, for embeddings and dense layers', () => {
  const param = (rows: number, dim: number, state: Float32Array | null): NativeTowerParam => ({
    w: sharedFloats(rows * dim),
    dim,
    state,
    frozen: null,
    lrMult: 1,
  });
  const OUT = 2;
  const spec = (
    emb: OptimizerKind,
    dense: DenseOptimizer,
    embState: Float32Array | null,
    weightState: Float32Array | null,
  ): TwoTowerChunkSpec => ({
    user: {
      entities: ROWS,
      dim: DIM,
      embedding: param(ROWS, DIM, embState),
      features: null,
      dense: null,
      layers: [{ weight: param(OUT, DIM, weightState), bias: param(OUT, 1, sharedFloats(optimizerStateSize(OptimizerKind.adam, OUT, 1))) }],
    },
    item: { entities: ROWS, dim: OUT, embedding: param(ROWS, OUT, null), features: null, dense: null, layers: [] },
    users: shared(1),
    items: shared(1),
    logQ: null,
    schedule: shared(1),
    begin: 0,
    end: 1,
    batchSize: 1,
    similarity: Similarity.dot,
    temperature: 1,
    threads: 1,
    embOptimizer: emb,
    lr: 0.01,
    l2: 0,
    eps: 1e-8,
    denseOptimizer: dense,
    denseLr: 0.01,
    denseL2: 0,
    beta1: 0.9,
    beta2: 0.999,
    denseEps: 1e-8,
    cancel: null,
  });
  for (const kind of [OptimizerKind.adagrad, OptimizerKind['rowwise-adagrad'], OptimizerKind.adam]) {
    const want = optimizerStateSize(kind, ROWS, DIM);
    expect(
      wantedLength(() => native.twoTowerChunk(spec(kind, DenseOptimizer.sgd, sharedFloats(want + 1), null)), 'spec.user.embedding.state'),
    ).toBe(want);
  }
  // Dense Adam keeps the Adam layout.
  const want = optimizerStateSize(OptimizerKind.adam, OUT, DIM);
  expect(
    wantedLength(
      () => native.twoTowerChunk(spec(OptimizerKind.sgd, DenseOptimizer.adam, null, sharedFloats(want + 1))),
      'spec.user.layers[0].weight.state',
    ),
  ).toBe(want);
});

test('mfRecordStride is the record width the shuffle binding checks, for every loss, sampler and rejection', () => {
  const items = 4;
  for (const loss of Object.values(MfLoss)) {
    for (const kind of Object.values(SamplerKind)) {
      for (const reject of [false, true]) {
        const spec: MfRecordsSpec = {
          loss,
          numItems: items,
          sampler:
            kind === SamplerKind.alias
              ? { kind, prob: sharedFloats(items), alias: shared(items) }
              : kind === SamplerKind['in-batch']
                ? { kind, window: 2 }
                : { kind },
          maxRejections: 20,
          users: shared(1),
          items: shared(1),
          values: loss === MfLoss.mse ? sharedFloats(1) : null,
          posOffsets: reject ? sharedOf(0, 1) : null,
          posIndices: reject ? sharedOf(0) : null,
          records: shared(1),
          seed: 0,
          epoch: 0,
        };
        let stride = NaN;
        try {
          void native.shuffleRecords(spec);
        } catch (err) {
          expect((err as { argument?: string }).argument).toBe('spec.records');
          stride = Number(/hold (\d+) values/.exec((err as Error).message)?.[1]);
        }
        expect([loss, kind, reject, stride]).toEqual([loss, kind, reject, mfRecordStride(loss, reject, kind)]);
      }
    }
  }
});
