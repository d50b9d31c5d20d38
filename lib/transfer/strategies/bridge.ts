/**
 * Personalized bridge (PTUPCDR-style). When to use: users overlap, and users differ in how their
 * source tastes carry over (one mapping for everyone, as in EMCDR, is too blunt). A meta network
 * reads the user's source history — an attention-weighted mean of their source item vectors — and
 * emits a personal d × d map; the user's target vector is (base map + personal map) · source
 * vector. The base is EMCDR's ridge map; the meta network is trained task-first: BPR on the
 * warm aligned users' target rows against the frozen target item vectors, early-stopped on
 * cold-validation users.
 */
import { uniformGenerator } from '../../core/random';
import { SmallNet } from '../small-net';
import { UserVectorsModel } from '../user-vectors-model';
import { fitEmbeddingMap } from './mapping';
import { alignedPairs, gatherRows, warmVectors, type Strategy } from './strategy';

export interface BridgeOptions {
  /** Hidden width of the meta network. Default 16. */
  hidden?: number;
  /** Epochs over the warm aligned users (default 30), Adam learning rate (default 1e-3), users per step (default 32). */
  epochs?: number;
  lr?: number;
  batch?: number;
  /** Target rows sampled per user per epoch (each with one uniform negative). Default 20. */
  pairsPerUser?: number;
}

export function bridge(options: BridgeOptions = {}): Strategy {
  return {
    name: 'bridge',
    summary: 'PTUPCDR: a meta network maps each user through a personal bridge built from their source history',
    async run(ctx) {
      const [source, target] = await Promise.all([ctx.sourceModel(), ctx.targetModel()]);
      const d = target.dim;
      const ds = source.dim;
      const sv = source.itemEmbedding.table.data;
      const tv = target.itemEmbedding.table.data;
      const su = source.userEmbedding.table.data;
      const warm = alignedPairs(ctx, true);
      const base = fitEmbeddingMap(
        gatherRows(su, ds, warm.source),
        ds,
        gatherRows(target.userEmbedding.table.data, d, warm.target),
        d,
        warm.source.length,
        { seed: ctx.seed },
      );
      const history = ctx.sourceData.byUser();
      // A source vocabulary may know users without rows (beyond the CSR): their history is empty.
      const historyOf = (s: number) =>
        s + 1 < history.offsets.length
          ? history.indices.subarray(history.offsets[s], history.offsets[s + 1])
          : history.indices.subarray(0, 0);
      const hidden = options.hidden ?? 16;
      const net = new SmallNet([ds, hidden, d * ds], ctx.seed + 17, ctx.settings.threads);
      net.scaleLastLayer(0.01);
      const att = new Float32Array(ds);
      const attM = new Float32Array(ds);
      const attV = new Float32Array(ds);
      let attStep = 0;
      const lr = options.lr ?? 1e-3;
      const rand = uniformGenerator(ctx.seed + 99);
      const snapshotNet = () => {
        const restoreNet = net.snapshot();
        const savedAtt = att.slice();
        return () => {
          restoreNet();
          att.set(savedAtt);
        };
      };
      const nItems = target.items;

      // Forward for a batch of source users: characteristic vectors and attention weights.
      const characterise = (rows: Int32Array) => {
        const c = new Float32Array(rows.length * ds);
        const weights: Float32Array[] = [];
        rows.forEach((s, k) => {
          const items = historyOf(s);
          const z = new Float32Array(items.length);
          let max = -Infinity;
          items.forEach((j, q) => {
            let dot = 0;
            for (let x = 0; x < ds; x++) dot += att[x] * sv[j * ds + x];
            z[q] = dot;
            if (dot > max) max = dot;
          });
          let sum = 0;
          for (let q = 0; q < z.length; q++) sum += z[q] = Math.exp(z[q] - max);
          for (let q = 0; q < z.length; q++) z[q] /= sum;
          items.forEach((j, q) => {
            for (let x = 0; x < ds; x++) c[k * ds + x] += z[q] * sv[j * ds + x];
          });
          weights.push(z);
        });
        return { c, weights };
      };
      const mapUsers = (rows: Int32Array): Float32Array => {
        const { c } = characterise(rows);
        const personal = net.predict(c, rows.length);
        const out = base.apply(gatherRows(su, ds, rows), rows.length);
        rows.forEach((s, k) => addPersonal(out, k, personal, su, s, d, ds));
        return out;
      };
      const cold = alignedPairs(ctx, false);
      const coldValidationUsers = new Set(ctx.split.coldValidationUsers);
      const valPairs = {
        source: cold.source.filter((_, k) => coldValidationUsers.has(cold.target[k])),
        target: cold.target.filter((u) => coldValidationUsers.has(u)),
      };
      const { vectors, has } = warmVectors(ctx, target.userEmbedding.table.data, d);
      const score = async () => {
        const mapped = mapUsers(valPairs.source);
        valPairs.target.forEach((u, k) => {
          vectors.set(mapped.subarray(k * d, (k + 1) * d), u * d);
          has[u] = 1;
        });
        const m = await ctx.validate(new UserVectorsModel(vectors, has, target.itemEmbedding.table, ctx.popularity), ctx.coldValidation);
        return m[ctx.settings.metric] as number;
      };

      const epochs = options.epochs ?? 30;
      const batch = options.batch ?? 32;
      const pairs = options.pairsPerUser ?? 20;
      const order = Int32Array.from({ length: warm.source.length }, (_, i) => i);
      // The base map of the warm users does not train: applied once.
      const baseWarm = base.apply(gatherRows(su, ds, warm.source), warm.source.length);
      const dmBuffer = new Float32Array(batch * d);
      const seen = new Uint8Array(nItems);
      let best = valPairs.source.length ? await score() : -Infinity;
      let restore = snapshotNet();
      let since = 0;
      for (let e = 0; e < epochs && since <= ctx.settings.patience; e++) {
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (let start = 0; start < order.length; start += batch) {
          const idx = order.subarray(start, Math.min(order.length, start + batch));
          const rows = Int32Array.from(idx, (k) => warm.source[k]);
          const { c, weights } = characterise(rows);
          const pass = net.forward(c, rows.length, true);
          const personal = pass.output;
          const m = gatherRows(baseWarm, d, idx);
          rows.forEach((s, k) => addPersonal(m, k, personal, su, s, d, ds));
          const dm = dmBuffer.subarray(0, rows.length * d);
          idx.forEach((k, b) => {
            const u = warm.target[k];
            const positives = ctx.split.train.itemsOf(u);
            for (const i of positives) seen[i] = 1;
            const at = b * d;
            dm.fill(0, at, at + d);
            for (let p = 0; p < pairs; p++) {
              const i = positives[Math.floor(rand() * positives.length)];
              let j = Math.floor(rand() * nItems);
              for (let t = 0; t < 10 && seen[j]; t++) j = Math.floor(rand() * nItems);
              let x = 0;
              for (let q = 0; q < d; q++) x += m[at + q] * (tv[i * d + q] - tv[j * d + q]);
              const g = -1 / (1 + Math.exp(x)) / (pairs * idx.length);
              for (let q = 0; q < d; q++) dm[at + q] += g * (tv[i * d + q] - tv[j * d + q]);
            }
            for (const i of positives) seen[i] = 0;
          });
          // dLoss/d(personal map) of row b is the outer product dm[b] ⊗ s[b].
          const dOut = { left: dm, right: gatherRows(su, ds, rows) };
          const dc = net.backward(pass, dOut)!;
          net.adamStep(lr, 1e-5);
          // Attention: back through c = Σ softmax(a·v_j) v_j.
          const gAtt = new Float32Array(ds);
          rows.forEach((s, b) => {
            const items = historyOf(s);
            const w = weights[b];
            const da = new Float32Array(items.length);
            let mean = 0;
            items.forEach((j, q) => {
              let dot = 0;
              for (let x = 0; x < ds; x++) dot += dc[b * ds + x] * sv[j * ds + x];
              da[q] = dot;
              mean += w[q] * dot;
            });
            items.forEach((j, q) => {
              const dz = w[q] * (da[q] - mean);
              for (let x = 0; x < ds; x++) gAtt[x] += dz * sv[j * ds + x];
            });
          });
          attStep++;
          for (let x = 0; x < ds; x++) {
            attM[x] = 0.9 * attM[x] + 0.1 * gAtt[x];
            attV[x] = 0.999 * attV[x] + 0.001 * gAtt[x] * gAtt[x];
            att[x] -= (lr * attM[x]) / (1 - 0.9 ** attStep) / (Math.sqrt(attV[x] / (1 - 0.999 ** attStep)) + 1e-8);
          }
        }
        if (!valPairs.source.length) continue;
        const metric = await score();
        if (metric > best) {
          best = metric;
          since = 0;
          restore = snapshotNet();
        } else since++;
      }
      // Without cold-validation users there is nothing to choose an epoch by: keep the last one.
      if (valPairs.source.length) restore();
      const mapped = mapUsers(cold.source);
      cold.target.forEach((u, k) => {
        vectors.set(mapped.subarray(k * d, (k + 1) * d), u * d);
        has[u] = 1;
      });
      return new UserVectorsModel(vectors, has, target.itemEmbedding.table, ctx.popularity);
    },
  };
}

// out[k] += W_k · s, with W_k the k-th personal d × ds map.
function addPersonal(out: Float32Array, k: number, personal: Float32Array, su: Float32Array, s: number, d: number, ds: number): void {
  for (let r = 0; r < d; r++) {
    let acc = 0;
    const w = k * d * ds + r * ds;
    for (let q = 0; q < ds; q++) acc += personal[w + q] * su[s * ds + q];
    out[k * d + r] += acc;
  }
}
