/**
 * A small fully-connected network (ReLU between layers, none after the last) with Adam, for the
 * mapping, bridge and content models of transfer. The products run on the native dense kernels
 * (mlpForward/mlpBackward/mlpFitMse): even at a few thousand rows of width ≤ a few hundred, typed-array
 * loops on one core made these models take minutes per seed, and a whole regression epoch is one
 * native call. Weights, gradients and Adam moments are each one flat array (layer l's weight, out × in,
 * then its bias), so a snapshot is one copy.
 */
import { resolveThreads } from '../core/config';
import { native } from '../core/native';
import { normalGenerator, uniformGenerator } from '../core/random';

export interface NetFitOptions {
  epochs?: number;
  lr?: number;
  batch?: number;
  l2?: number;
  seed?: number;
  /** Epochs without held-out improvement before stopping. Default 10. */
  patience?: number;
  /** Rewrites the held-out inputs once (e.g. zero the preference part to score the cold case). */
  heldOutTransform?: (batch: Float32Array, rows: number) => void;
  /** Zeroes each training row's first `cols` inputs with probability `p` (preference dropout). */
  dropout?: { cols: number; p: number };
}

/** The activations of one forward pass, for backward. */
export interface NetPass {
  readonly x: Float32Array;
  readonly rows: number;
  /** Every layer's output, layer after layer (rows × width each). */
  readonly acts: Float32Array;
  /** The last layer's output (a view into acts). */
  readonly output: Float32Array;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

export class SmallNet {
  readonly params: Float32Array;
  private readonly grads: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly shape: Int32Array;
  private readonly actWidth: number;
  private step = 0;
  private actsBuffer = new Float32Array(0);
  private dInBuffer = new Float32Array(0);
  /** Native threads of every product (bit-identical results for any count). */
  threads: number;

  /** sizes: [input, hidden…, output]. */
  constructor(
    readonly sizes: readonly number[],
    seed = 0,
    threads?: number,
  ) {
    this.shape = Int32Array.from(sizes);
    this.threads = resolveThreads('threads', threads);
    let count = 0;
    for (let l = 0; l + 1 < sizes.length; l++) count += sizes[l + 1] * (sizes[l] + 1);
    this.params = new Float32Array(count);
    this.grads = new Float32Array(count);
    this.m = new Float32Array(count);
    this.v = new Float32Array(count);
    this.actWidth = sizes.slice(1).reduce((a, b) => a + b, 0);
    const normal = normalGenerator(seed);
    let at = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const weights = sizes[l + 1] * sizes[l];
      const scale = Math.sqrt(2 / sizes[l]); // He init: ReLU halves the variance
      for (let i = 0; i < weights; i++) this.params[at + i] = normal() * scale;
      at += weights + sizes[l + 1]; // biases start at 0
    }
  }

  /** Multiplies the last layer's weights (a small start keeps a residual model near its base). */
  scaleLastLayer(factor: number): void {
    const L = this.sizes.length - 1;
    const weights = this.sizes[L] * this.sizes[L - 1];
    const at = this.params.length - weights - this.sizes[L];
    for (let i = at; i < at + weights; i++) this.params[i] *= factor;
  }

  /** A copy of the weights; calling the result puts them back (for best-epoch restore). */
  snapshot(): () => void {
    const saved = this.params.slice();
    return () => this.params.set(saved);
  }

  get inputDim(): number {
    return this.sizes[0];
  }

  get outputDim(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /**
   * With `reuse`, the activations live in a buffer of the net's that the next reusing forward
   * overwrites (a training loop's per-batch pass: fresh half-megabyte arrays per batch keep the
   * garbage collector busy); otherwise they are a fresh array the caller may keep.
   */
  forward(x: Float32Array, rows: number, reuse = false): NetPass {
    const size = rows * this.actWidth;
    if (reuse && this.actsBuffer.length < size) this.actsBuffer = new Float32Array(size);
    const acts = reuse ? this.actsBuffer.subarray(0, size) : new Float32Array(size);
    native.mlpForward({
      sizes: this.shape,
      params: this.params,
      x: x.subarray(0, rows * this.inputDim),
      rows,
      acts,
      threads: this.threadsFor(rows),
    });
    return { x, rows, acts, output: acts.subarray(rows * (this.actWidth - this.outputDim)) };
  }

  predict(x: Float32Array, rows: number): Float32Array {
    return this.forward(x, rows).output;
  }

  /**
   * Accumulates gradients for dLoss/dOutput = dOut (or, as { left, right }, row by row the outer
   * product left[r] ⊗ right[r]); returns dLoss/dInput when asked for, in a buffer
   * of the net's that the next backward overwrites.
   */
  backward(pass: NetPass, dOut: Float32Array | { left: Float32Array; right: Float32Array }, wantInput = true): Float32Array | null {
    const size = pass.rows * this.inputDim;
    if (wantInput && this.dInBuffer.length < size) this.dInBuffer = new Float32Array(size);
    const dIn = wantInput ? this.dInBuffer.subarray(0, size) : null;
    native.mlpBackward({
      sizes: this.shape,
      params: this.params,
      grads: this.grads,
      x: pass.x.subarray(0, pass.rows * this.inputDim),
      rows: pass.rows,
      acts: pass.acts,
      dOut,
      dIn,
      threads: this.threadsFor(pass.rows),
    });
    return dIn;
  }

  /** One Adam step with the accumulated gradients (then cleared). */
  adamStep(lr: number, l2 = 0): void {
    this.step++;
    native.mlpAdam({ ...this.state(), step: this.step, lr, l2, beta1: BETA1, beta2: BETA2, eps: EPS });
  }

  /**
   * Threads for a call over `rows` rows: one below about 8M multiply-adds (a fraction of a
   * millisecond), where handing work to the pool costs more than it saves and its workers' spin
   * after each call doubles the CPU time of a training loop. Results do not depend on it.
   */
  private threadsFor(rows: number): number {
    return rows * this.params.length >= 1 << 23 ? this.threads : 1;
  }

  private state() {
    return { sizes: this.shape, params: this.params, grads: this.grads, m: this.m, v: this.v };
  }

  /**
   * Mean-squared-error regression of y (n × out) on x (n × in) with mini-batch Adam. A seeded 10% of
   * rows (when there are ≥ 50) is held out: training stops when its loss has not improved for
   * `patience` epochs and the best weights are restored. Returns the best held-out (or last training) loss.
   */
  fitRegression(x: Float32Array, y: Float32Array, n: number, options: NetFitOptions = {}): number {
    const epochs = options.epochs ?? 50;
    const lr = options.lr ?? 1e-3;
    const seed = options.seed ?? 0;
    const rand = uniformGenerator(seed);
    const inDim = this.inputDim;
    const outDim = this.outputDim;
    const xs = x.subarray(0, n * inDim);
    const ys = y.subarray(0, n * outDim);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    shuffle(order, rand);
    const held = n >= 50 ? Math.max(5, Math.floor(n * 0.1)) : 0;
    const trainRows = order.slice(held);
    const m = trainRows.length;
    const batch = Math.max(1, Math.min(options.batch ?? 64, m));
    const patience = options.patience ?? 10;
    let heldLoss = () => Infinity;
    if (held) {
      const hx = new Float32Array(held * inDim);
      const hy = new Float32Array(held * outDim);
      order.subarray(0, held).forEach((src, r) => {
        hx.set(xs.subarray(src * inDim, (src + 1) * inDim), r * inDim);
        hy.set(ys.subarray(src * outDim, (src + 1) * outDim), r * outDim);
      });
      options.heldOutTransform?.(hx, held);
      heldLoss = () => {
        const out = this.predict(hx, held);
        let total = 0;
        for (let k = 0; k < out.length; k++) total += (out[k] - hy[k]) ** 2;
        return total / out.length;
      };
    }
    let best = heldLoss();
    let restore = this.snapshot();
    let since = 0;
    let last = 0;
    for (let e = 0; e < epochs && since <= patience; e++) {
      shuffle(trainRows, rand);
      const total = native.mlpFitMse({
        ...this.state(),
        step: this.step + 1,
        lr,
        l2: options.l2 ?? 0,
        beta1: BETA1,
        beta2: BETA2,
        eps: EPS,
        x: xs,
        y: ys,
        order: trainRows,
        batch,
        dropCols: options.dropout?.cols ?? 0,
        dropProb: options.dropout?.p ?? 0,
        seed: (seed >>> 0) * 1009 + e,
        threads: this.threadsFor(batch),
      });
      this.step += Math.ceil(m / batch);
      last = total / (m * outDim);
      if (!held) continue;
      const loss = heldLoss();
      if (loss < best) {
        best = loss;
        since = 0;
        restore = this.snapshot();
      } else since++;
    }
    if (!held) return last;
    restore();
    return best;
  }
}

function shuffle(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
