// Stress: 8 worker threads query topK and scoreItems on a shared snapshot table while the main
// thread trains a matrix-factorization model (Trainer.fitPartial) and publishes a fresh snapshot
// after every epoch (the trained item vectors copied into a new shared table, stamped with a
// version in their last column). Bounded in time; no call may throw, crash or return a result that
// is not from one snapshot (the workers check every result against its snapshot's stamp).
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { EmbeddingTable, MatrixFactorization, Trainer } from '../../lib';
import { planted } from '../support/planted';

const WORKERS = 8;
const SECONDS = Number(process.env.RECBRIDGE_STRESS_SECONDS ?? 12);
const distPath = path.resolve(__dirname, '../../dist');

interface WorkerReport {
  type: 'done';
  topK: number;
  scoreItems: number;
  snapshots: number;
  versions: number;
  failures: string[];
}

function snapshot(model: MatrixFactorization, version: number): EmbeddingTable {
  const items = model.encodeItems();
  const dim = items.dim + 1;
  const table = EmbeddingTable.create(items.rows, dim, { shared: true });
  for (let r = 0; r < items.rows; r++) {
    table.data.set(items.data.subarray(r * items.dim, (r + 1) * items.dim), r * dim);
    table.data[r * dim + dim - 1] = version;
  }
  return table;
}

test(
  `${WORKERS} workers query while the main thread trains and swaps snapshots (${SECONDS} s)`,
  async () => {
    const { train } = planted(600, 400, 3);
    const model = new MatrixFactorization({ users: train.numUsers, items: train.numItems, dim: 31, seed: 5 });
    const workers = Array.from(
      { length: WORKERS },
      (_, i) => new Worker(path.join(__dirname, 'fixtures', 'stress-worker.js'), { workerData: { distPath, seed: i + 1 } }),
    );
    const errors: unknown[] = [];
    const reports = workers.map(
      (w) =>
        new Promise<WorkerReport>((resolve, reject) => {
          w.on('message', (m: WorkerReport) => m.type === 'done' && resolve(m));
          w.on('error', reject);
          w.on('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
        }),
    );
    let version = 0;
    const publish = () => {
      const handle = snapshot(model, ++version).toShared();
      for (const w of workers) w.postMessage({ type: 'snapshot', version, handle });
    };
    publish();
    const until = Date.now() + SECONDS * 1000;
    let epochs = 0;
    while (Date.now() < until) {
      try {
        await Trainer.fitPartial(model, train, { epochs: 1, loss: 'bpr', optimizer: { type: 'adagrad', lr: 0.05 }, threads: 2 });
        epochs++;
      } catch (err) {
        errors.push(err);
        break;
      }
      publish();
    }
    for (const w of workers) w.postMessage({ type: 'stop' });
    const done = await Promise.all(reports);
    await Promise.all(workers.map((w) => w.terminate()));

    expect(errors).toEqual([]);
    expect(done.flatMap((r) => r.failures)).toEqual([]);
    expect(epochs).toBeGreaterThan(5);
    const queries = done.reduce((s, r) => s + r.topK, 0);
    // Every worker answered, and across workers many snapshots were in use.
    for (const r of done) expect(r.topK).toBeGreaterThan(0);
    expect(Math.max(...done.map((r) => r.versions))).toBeGreaterThan(3);
    console.log(
      `stress: ${epochs} epochs, ${version} snapshots, ${queries} topK + ${done.reduce((s, r) => s + r.scoreItems, 0)} scoreItems calls in ${SECONDS} s`,
    );
  },
  (SECONDS + 60) * 1000,
);
