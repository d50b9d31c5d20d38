// Runs in a worker thread: loads the built package (dist/), rebuilds the shared table without
// copying, and answers queries so the test can compare with the main thread.
const { parentPort, workerData } = require('node:worker_threads');
const rb = require(workerData.distPath);

const table = rb.EmbeddingTable.fromShared(workerData.handle);
parentPort.on('message', async (msg) => {
  if (msg.type === 'topK') {
    const r = rb.topK(table, msg.query, msg.k, { exclude: msg.exclude, threads: msg.threads });
    parentPort.postMessage({
      indices: Array.from(r.indices),
      scores: Array.from(r.scores),
      shared: table.data.buffer === workerData.handle.data.buffer,
      isShared: table.shared,
    });
  } else if (msg.type === 'batch') {
    const r = await rb.topKBatch(table, msg.queries, msg.k, { threads: msg.threads });
    parentPort.postMessage({ indices: Array.from(r.indices), scores: Array.from(r.scores) });
  } else if (msg.type === 'write') {
    table.data[msg.at] = msg.value; // visible to every thread: one copy of the table
    parentPort.postMessage({ ok: true });
  }
});
