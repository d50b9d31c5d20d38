'use strict';
// Seeded inputs, created once per child process and never inside a timed region.
const { loadRecbridge } = require('./recbridge');

/** A rows × dim table of seeded normal values (recbridge's own initialiser). */
function makeTable(rows, dim, seed) {
  const { rb } = loadRecbridge();
  return rb.EmbeddingTable.create(rows, dim, { init: 'normal', seed });
}

/** n × dim standard-normal queries, row-major. */
function makeQueries(n, dim, seed) {
  const { rb } = loadRecbridge();
  const normal = rb.normalGenerator(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = normal();
  return out;
}

/** Query i of a row-major pool as a view; cycles when i exceeds the pool. */
function queryAt(pool, dim, i) {
  const n = pool.length / dim;
  const q = i % n;
  return pool.subarray(q * dim, (q + 1) * dim);
}

module.exports = { makeTable, makeQueries, queryAt };
