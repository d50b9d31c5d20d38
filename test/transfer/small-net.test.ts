// The transfer models' small MLP runs on the native dense kernels. These tests hold it to a plain
// double-precision reference written here (forward, backward, Adam), to itself across thread counts
// (bit-identical) and instruction sets, and to known answers for the regression fit.
import { capabilities, normalGenerator, setIsa, type IsaName } from '../../lib';
import { native } from '../../lib/core/native';
import { SmallNet } from '../../lib/transfer/small-net';

afterEach(() => setIsa(null));

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const normal = normalGenerator(seed);
  return Float32Array.from({ length: n }, () => normal() * scale);
}

// Reference forward on the flat layout: returns every layer's output (hidden ones after ReLU).
function refForward(sizes: number[], params: Float32Array, x: Float32Array, rows: number): number[][] {
  const outs: number[][] = [];
  let input = Array.from(x);
  let at = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [inD, outD] = [sizes[l], sizes[l + 1]];
    const y: number[] = [];
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < outD; o++) {
        let s = params[at + outD * inD + o];
        for (let i = 0; i < inD; i++) s += params[at + o * inD + i] * input[r * inD + i];
        y.push(l + 2 < sizes.length ? Math.max(0, s) : s);
      }
    outs.push(y);
    input = y;
    at += outD * (inD + 1);
  }
  return outs;
}

// Reference backward: parameter gradients and the input gradient.
function refBackward(sizes: number[], params: Float32Array, x: Float32Array, rows: number, dOut: Float32Array) {
  const outs = refForward(sizes, params, x, rows);
  const grads = new Float64Array(params.length);
  const offsets: number[] = [];
  let at = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    offsets.push(at);
    at += sizes[l + 1] * (sizes[l] + 1);
  }
  let dy = Array.from(dOut);
  for (let l = sizes.length - 2; l >= 0; l--) {
    const [inD, outD] = [sizes[l], sizes[l + 1]];
    const input = l === 0 ? Array.from(x) : outs[l - 1];
    const w = offsets[l];
    const dx = new Array<number>(rows * inD).fill(0);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < outD; o++) {
        const g = dy[r * outD + o];
        grads[w + outD * inD + o] += g;
        for (let i = 0; i < inD; i++) {
          grads[w + o * inD + i] += g * input[r * inD + i];
          dx[r * inD + i] += g * params[w + o * inD + i];
        }
      }
    if (l > 0) for (let k = 0; k < dx.length; k++) if (input[k] <= 0) dx[k] = 0;
    dy = dx;
  }
  return { grads, dIn: dy };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst).toBeLessThan(tol);
}

const SIZES = [7, 13, 9, 37]; // two hidden layers, widths that are not multiples of any vector width
const ROWS = 11;

describe('SmallNet on the native kernels', () => {
  test('forward matches the double-precision reference', () => {
    const net = new SmallNet(SIZES, 3, 1);
    const x = randomArray(ROWS * SIZES[0], 4);
    const pass = net.forward(x, ROWS);
    const want = refForward(SIZES, net.params, x, ROWS);
    expectClose(pass.output, want[want.length - 1], 1e-5);
    expectClose(pass.acts.subarray(0, ROWS * SIZES[1]), want[0], 1e-5);
  });

  test('backward matches the reference, and Adam applies the textbook update', () => {
    const net = new SmallNet(SIZES, 5, 1);
    const x = randomArray(ROWS * SIZES[0], 6);
    const dOut = randomArray(ROWS * SIZES[3], 7);
    const before = net.params.slice();
    const ref = refBackward(SIZES, before, x, ROWS, dOut);
    const dIn = net.backward(net.forward(x, ROWS), dOut)!;
    expectClose(dIn, ref.dIn, 1e-5);
    // The first Adam step moves every weight with a non-zero gradient by lr·sign(g) (bias-corrected
    // m/√v = g/|g|); L2 adds l2·w to weights' gradients only.
    const lr = 1e-2;
    const l2 = 0.5;
    net.adamStep(lr, l2);
    let at = 0;
    for (let l = 0; l + 1 < SIZES.length; l++) {
      const weights = SIZES[l + 1] * SIZES[l];
      for (let i = at; i < at + weights + SIZES[l + 1]; i++) {
        const g = ref.grads[i] + (i < at + weights ? l2 * before[i] : 0);
        const step = Math.abs(g) < 1e-6 ? 0 : -lr * Math.sign(g);
        expect(net.params[i] - before[i]).toBeCloseTo(step, 4);
      }
      at += weights + SIZES[l + 1];
    }
  });

  test('an output gradient given as per-row outer products equals the materialised one', () => {
    const sizes = [5, 8, 12]; // the net emits a 3 × 4 matrix per row
    const rows = 6;
    const x = randomArray(rows * 5, 20);
    const left = randomArray(rows * 3, 21);
    const right = randomArray(rows * 4, 22);
    const full = new Float32Array(rows * 12);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) full[r * 12 + i * 4 + j] = left[r * 3 + i] * right[r * 4 + j];
    const a = new SmallNet(sizes, 23, 1);
    const b = new SmallNet(sizes, 23, 1);
    const dA = a.backward(a.forward(x, rows), full)!.slice();
    const dB = b.backward(b.forward(x, rows), { left, right })!.slice();
    expect(Array.from(dB)).toEqual(Array.from(dA));
    a.adamStep(0.1);
    b.adamStep(0.1);
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
    expect(() => b.backward(b.forward(x, rows), { left, right: randomArray(rows * 5, 24) })).toThrow(/a·b = 12/);
  });

  test('gradients agree with finite differences of the loss', () => {
    const sizes = [4, 6, 3];
    const net = new SmallNet(sizes, 8, 1);
    const x = randomArray(5 * 4, 9);
    const target = randomArray(5 * 3, 10);
    const loss = () => {
      const out = net.predict(x, 5);
      let s = 0;
      for (let k = 0; k < out.length; k++) s += 0.5 * (out[k] - target[k]) ** 2;
      return s;
    };
    const out = net.predict(x, 5);
    const dOut = Float32Array.from(out, (o, k) => o - target[k]);
    const ref = refBackward(sizes, net.params, x, 5, dOut);
    for (const i of [0, 5, 23, 24, 29, 30, 40, net.params.length - 1]) {
      const keep = net.params[i];
      net.params[i] = keep + 1e-2;
      const up = loss();
      net.params[i] = keep - 1e-2;
      const down = loss();
      net.params[i] = keep;
      expect((up - down) / 2e-2).toBeCloseTo(ref.grads[i], 2);
    }
  });

  test('one thread and two give bit-identical training', () => {
    const sizes = [24, 40, 300];
    const x = randomArray(700 * 24, 11);
    const y = randomArray(700 * 300, 12, 0.1);
    const train = (threads: number) => {
      const net = new SmallNet(sizes, 13, threads);
      net.fitRegression(x, y, 700, { epochs: 3, seed: 2, dropout: { cols: 8, p: 0.5 } });
      return net.params;
    };
    expect(Buffer.from(train(2).buffer).equals(Buffer.from(train(1).buffer))).toBe(true);
  });

  test('every instruction set computes the same forward pass', () => {
    const net = new SmallNet([33, 65, 40], 14, 1);
    const x = randomArray(130 * 33, 15);
    const want = refForward([33, 65, 40], net.params, x, 130)[1];
    for (const isa of capabilities().supportedIsas as IsaName[]) {
      setIsa(isa);
      expectClose(net.predict(x, 130), want, 1e-5);
    }
  });

  test('fitRegression recovers a planted non-linear map on held-out rows', () => {
    const n = 2000;
    const x = randomArray(n * 4, 16);
    const y = new Float32Array(n * 2);
    for (let r = 0; r < n; r++) {
      const [a, b, c, d] = x.subarray(r * 4, r * 4 + 4);
      y[r * 2] = Math.max(0, a + b) - c;
      y[r * 2 + 1] = 0.5 * d - Math.max(0, -a);
    }
    let variance = 0;
    for (const v of y) variance += v * v;
    variance /= y.length;
    const net = new SmallNet([4, 32, 2], 17, 1);
    const loss = net.fitRegression(x, y, n, { epochs: 200, lr: 3e-3, seed: 1 });
    expect(loss).toBeLessThan(0.02 * variance);
  });

  test('preference dropout teaches the net to answer from the remaining inputs', () => {
    // y = the first two inputs (the "preference"); the last two carry the same values. With dropout
    // of the first two, held-out rows scored without them (zeroed) must still be reproduced.
    const n = 1500;
    const base = randomArray(n * 2, 18);
    const x = new Float32Array(n * 4);
    for (let r = 0; r < n; r++) x.set([base[2 * r], base[2 * r + 1], base[2 * r], base[2 * r + 1]], 4 * r);
    const zeroPreference = (b: Float32Array, rows: number) => {
      for (let r = 0; r < rows; r++) b.fill(0, 4 * r, 4 * r + 2);
    };
    const heldOutLoss = (p: number) =>
      new SmallNet([4, 16, 2], 19, 1).fitRegression(x, base, n, {
        epochs: 60,
        lr: 3e-3,
        seed: 3,
        patience: 100,
        dropout: { cols: 2, p },
        heldOutTransform: zeroPreference,
      });
    expect(heldOutLoss(0.5)).toBeLessThan(0.01);
  });

  test('the binding refuses shapes that do not match the parameters', () => {
    const sizes = Int32Array.from([3, 4, 2]);
    const params = new Float32Array(3 * 4 + 4 + 4 * 2 + 2);
    const call = (spec: Partial<Parameters<typeof native.mlpForward>[0]>) => {
      try {
        native.mlpForward({ sizes, params, x: new Float32Array(6), rows: 2, acts: new Float32Array(12), threads: 1, ...spec });
      } catch (err) {
        return err as { code?: string; argument?: string };
      }
      return undefined;
    };
    expect(call({})).toBeUndefined();
    expect(call({ params: new Float32Array(5) })).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', argument: 'spec.params' });
    expect(call({ x: new Float32Array(5) })).toMatchObject({ argument: 'spec.x' });
    expect(call({ acts: new Float32Array(11) })).toMatchObject({ argument: 'spec.acts' });
    expect(call({ sizes: Int32Array.from([3, 0, 2]) })).toMatchObject({ argument: 'spec.sizes' });
    expect(call({ threads: 0 })).toMatchObject({ argument: 'spec.threads' });
    // Zero rows is legal and writes nothing.
    expect(call({ rows: 0, x: new Float32Array(0), acts: new Float32Array(0) })).toBeUndefined();
    const order = (o: Int32Array) => {
      try {
        native.mlpFitMse({
          sizes,
          params,
          grads: new Float32Array(params.length),
          m: new Float32Array(params.length),
          v: new Float32Array(params.length),
          step: 1,
          lr: 1e-3,
          l2: 0,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          x: new Float32Array(6),
          y: new Float32Array(4),
          order: o,
          batch: 4,
          dropCols: 0,
          dropProb: 0,
          seed: 0,
          threads: 1,
        });
      } catch (err) {
        return err as { argument?: string };
      }
      return undefined;
    };
    expect(order(Int32Array.from([1, 0]))).toBeUndefined();
    expect(order(Int32Array.from([0, 2]))).toMatchObject({ argument: 'spec.order' });
  });
});
