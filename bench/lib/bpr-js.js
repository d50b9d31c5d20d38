'use strict';
// The in-run baseline for training: BPR with plain SGD written as straightforward TypeScript-style
// JavaScript over Float32Arrays (uniform negatives, no rejection), the loop a Node developer would
// write without recbridge. Returns samples per second over the first `samples` interactions.
function bprSgdPlainJs(data, dim, samples, lr, seed) {
  const nUsers = data.numUsers;
  const nItems = data.numItems;
  const U = new Float32Array(nUsers * dim);
  const V = new Float32Array(nItems * dim);
  let state = seed >>> 0 || 1;
  const rand = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  for (let i = 0; i < U.length; i++) U[i] = (rand() - 0.5) * 0.2;
  for (let i = 0; i < V.length; i++) V[i] = (rand() - 0.5) * 0.2;
  const n = Math.min(samples, data.size);
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < n; s++) {
    const idx = Math.floor(rand() * data.size);
    const u = data.users[idx] * dim;
    const i = data.items[idx] * dim;
    let jItem = Math.floor(rand() * nItems);
    if (jItem === data.items[idx]) jItem = (jItem + 1) % nItems;
    const j = jItem * dim;
    let x = 0;
    for (let k = 0; k < dim; k++) x += U[u + k] * (V[i + k] - V[j + k]);
    const g = 1 / (1 + Math.exp(x));
    for (let k = 0; k < dim; k++) {
      const uk = U[u + k];
      U[u + k] += lr * g * (V[i + k] - V[j + k]);
      V[i + k] += lr * g * uk;
      V[j + k] -= lr * g * uk;
    }
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

module.exports = { bprSgdPlainJs };
