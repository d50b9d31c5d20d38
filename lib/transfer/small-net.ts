/**
 * A small fully-connected network (ReLU between layers, none after the last) with Adam, for the
 * mapping, bridge and content models of transfer. These nets see thousands of rows of width ≤ a few
 * hundred, so plain typed-array loops are fast enough and keep the transfer code self-contained;
 * the million-row work (embeddings, scoring) stays in the native kernels.
 */
import { normalGenerator, uniformGenerator } from '../core/random';

interface Layer {
  w: Float32Array; // out × in
  b: Float32Array;
  gw: Float32Array;
  gb: Float32Array;
  mw: Float32Array;
  vw: Float32Array;
  mb: Float32Array;
  vb: Float32Array;
  inDim: number;
  outDim: number;
}

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
}

export class SmallNet {
  private readonly layers: Layer[];
  private step = 0;

  /** sizes: [input, hidden…, output]. */
  constructor(
    readonly sizes: readonly number[],
    seed = 0,
  ) {
    const normal = normalGenerator(seed);
    this.layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const inDim = sizes[l];
      const outDim = sizes[l + 1];
      const w = new Float32Array(outDim * inDim);
      const scale = Math.sqrt(2 / inDim); // He init: ReLU halves the variance
      for (let i = 0; i < w.length; i++) w[i] = normal() * scale;
      this.layers.push({
        w,
        b: new Float32Array(outDim),
        gw: new Float32Array(w.length),
        gb: new Float32Array(outDim),
        mw: new Float32Array(w.length),
        vw: new Float32Array(w.length),
        mb: new Float32Array(outDim),
        vb: new Float32Array(outDim),
        inDim,
        outDim,
      });
    }
  }

  /** Multiplies the last layer's weights (a small start keeps a residual model near its base). */
  scaleLastLayer(factor: number): void {
    const last = this.layers[this.layers.length - 1];
    for (let i = 0; i < last.w.length; i++) last.w[i] *= factor;
  }

  /** A copy of the weights; calling the result puts them back (for best-epoch restore). */
  snapshot(): () => void {
    const saved = this.layers.map((L) => ({ L, w: L.w.slice(), b: L.b.slice() }));
    return () => {
      for (const { L, w, b } of saved) {
        L.w.set(w);
        L.b.set(b);
      }
    };
  }

  get inputDim(): number {
    return this.sizes[0];
  }

  get outputDim(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** Activations of every layer for n rows: acts[0] is x, the last is the output. */
  forward(x: Float32Array, n: number): Float32Array[] {
    const acts = [x];
    this.layers.forEach((L, l) => {
      const prev = acts[l];
      const out = new Float32Array(n * L.outDim);
      const last = l === this.layers.length - 1;
      for (let r = 0; r < n; r++) {
        const xi = r * L.inDim;
        for (let o = 0; o < L.outDim; o++) {
          let s = L.b[o];
          const wo = o * L.inDim;
          for (let i = 0; i < L.inDim; i++) s += L.w[wo + i] * prev[xi + i];
          out[r * L.outDim + o] = last || s > 0 ? s : 0;
        }
      }
      acts.push(out);
    });
    return acts;
  }

  predict(x: Float32Array, n: number): Float32Array {
    const acts = this.forward(x, n);
    return acts[acts.length - 1];
  }

  /** Accumulates gradients for dLoss/dOutput = dOut; returns dLoss/dInput. */
  backward(acts: Float32Array[], n: number, dOut: Float32Array): Float32Array {
    let grad = dOut;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l];
      const input = acts[l];
      const dIn = new Float32Array(n * L.inDim);
      for (let r = 0; r < n; r++) {
        for (let o = 0; o < L.outDim; o++) {
          const g = grad[r * L.outDim + o];
          if (g === 0) continue;
          L.gb[o] += g;
          const wo = o * L.inDim;
          const xi = r * L.inDim;
          for (let i = 0; i < L.inDim; i++) {
            L.gw[wo + i] += g * input[xi + i];
            dIn[xi + i] += g * L.w[wo + i];
          }
        }
      }
      // Through the ReLU of the layer below (its output is this layer's input).
      if (l > 0) for (let k = 0; k < dIn.length; k++) if (input[k] <= 0) dIn[k] = 0;
      grad = dIn;
    }
    return grad;
  }

  /** One Adam step with the accumulated gradients (then cleared). */
  adamStep(lr: number, l2 = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): void {
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    const update = (w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, decay: number) => {
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + decay * w[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        g[i] = 0;
      }
    };
    for (const L of this.layers) {
      update(L.w, L.gw, L.mw, L.vw, l2);
      update(L.b, L.gb, L.mb, L.vb, 0);
    }
  }

  /**
   * Mean-squared-error regression of y (n × out) on x (n × in) with mini-batch Adam. A seeded 10% of
   * rows (when there are ≥ 50) is held out: training stops when its loss has not improved for
   * `patience` epochs and the best weights are restored. `prepare` may rewrite each training batch's
   * inputs in place (e.g. dropout of some columns). Returns the best held-out (or last training) loss.
   */
  fitRegression(
    x: Float32Array,
    y: Float32Array,
    n: number,
    options: NetFitOptions = {},
    prepare?: (batch: Float32Array, rows: number, rand: () => number) => void,
  ): number {
    const epochs = options.epochs ?? 50;
    const lr = options.lr ?? 1e-3;
    const rand = uniformGenerator(options.seed ?? 0);
    const inDim = this.inputDim;
    const outDim = this.outputDim;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    shuffle(order, rand);
    const held = n >= 50 ? Math.max(5, Math.floor(n * 0.1)) : 0;
    const heldRows = order.slice(0, held);
    const trainRows = order.slice(held);
    const m = trainRows.length;
    const batch = Math.max(1, Math.min(options.batch ?? 64, m));
    const patience = options.patience ?? 10;
    const gather = (rows: Int32Array) => {
      const bx = new Float32Array(rows.length * inDim);
      const by = new Float32Array(rows.length * outDim);
      rows.forEach((src, r) => {
        bx.set(x.subarray(src * inDim, (src + 1) * inDim), r * inDim);
        by.set(y.subarray(src * outDim, (src + 1) * outDim), r * outDim);
      });
      return { bx, by };
    };
    const heldOut = held ? gather(heldRows) : null;
    if (heldOut) options.heldOutTransform?.(heldOut.bx, held);
    const heldLoss = () => {
      const out = this.predict(heldOut!.bx, held);
      let total = 0;
      for (let k = 0; k < out.length; k++) total += (out[k] - heldOut!.by[k]) ** 2;
      return total / out.length;
    };
    let best = heldOut ? heldLoss() : Infinity;
    let restore = this.snapshot();
    let since = 0;
    let last = 0;
    for (let e = 0; e < epochs && since <= patience; e++) {
      shuffle(trainRows, rand);
      let total = 0;
      for (let start = 0; start < m; start += batch) {
        const rows = Math.min(batch, m - start);
        const { bx, by } = gather(trainRows.subarray(start, start + rows));
        prepare?.(bx, rows, rand);
        const acts = this.forward(bx, rows);
        const out = acts[acts.length - 1];
        const d = new Float32Array(out.length);
        for (let k = 0; k < out.length; k++) {
          const diff = out[k] - by[k];
          total += diff * diff;
          d[k] = (2 * diff) / (rows * outDim);
        }
        this.backward(acts, rows, d);
        this.adamStep(lr, options.l2 ?? 0);
      }
      last = total / (m * outDim);
      if (!heldOut) continue;
      const loss = heldLoss();
      if (loss < best) {
        best = loss;
        since = 0;
        restore = this.snapshot();
      } else since++;
    }
    if (!heldOut) return last;
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
