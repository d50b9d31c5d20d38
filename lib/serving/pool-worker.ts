/**
 * The RecommenderPool worker: adopts shared snapshots (no copies) and answers requests one message
 * at a time, so a swap message lands strictly between two requests and no request sees two models.
 */
import { parentPort } from 'node:worker_threads';

import { Recommender } from './recommender';
import type { PoolRequest, PoolResponse } from './pool';

let recommender: Recommender | null = null;

function errorInfo(err: unknown): PoolResponse['error'] {
  const e = err as { name?: string; code?: string; message?: string; argument?: string };
  return { name: e?.name ?? 'Error', code: e?.code, message: e?.message ?? String(err), argument: e?.argument };
}

parentPort!.on('message', async (msg: PoolRequest) => {
  const reply = (r: Omit<PoolResponse, 'id'>) => parentPort!.postMessage({ id: msg.id, ...r });
  try {
    switch (msg.type) {
      case 'init':
        recommender = Recommender.fromShared(msg.snapshot, msg.options);
        if (msg.blocked.length) recommender.block(msg.blocked);
        return reply({ version: recommender.version });
      case 'swap':
        // swap resolves when this worker's old snapshot drains (its batches in flight).
        return reply({ version: await recommender!.swap(msg.snapshot) });
      case 'block':
        recommender!.block(msg.ids);
        return reply({});
      case 'unblock':
        recommender!.unblock(msg.ids);
        return reply({});
      case 'recommend': {
        const r = recommender!.recommend(msg.user, msg.k, msg.options);
        return reply({ result: r });
      }
      case 'recommendBatch':
        return reply({ results: await recommender!.recommendBatch(msg.users, msg.k, msg.options) });
      case 'similarItems':
        return reply({ similar: recommender!.similarItems(msg.item, msg.k, msg.options) });
      case 'memory':
        return reply({ memory: process.memoryUsage() });
    }
  } catch (err) {
    reply({ error: errorInfo(err) });
  }
});
