'use strict';
// Synthetic implicit feedback for the training benchmarks: uniform users, power-law item
// popularity (item = floor(items · u³), so a few items take most interactions), seeded.
const { loadRecbridge } = require('./recbridge');

function powerLawInteractions(users, items, n, seed) {
  const { rb } = loadRecbridge();
  const u = rb.uniformGenerator(seed);
  const us = new Int32Array(n);
  const is = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    us[k] = Math.floor(u() * users);
    is[k] = Math.min(items - 1, Math.floor(items * u() ** 3));
  }
  return new rb.Interactions({ users: us, items: is, numUsers: users, numItems: items });
}

module.exports = { powerLawInteractions };
