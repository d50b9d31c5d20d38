/**
 * Several service processes on one port (node:cluster; the primary hands each new connection to
 * the next process). Each process answers on its own event loop with its own copy of the tables,
 * so single requests never pay a thread hop: on a machine of few cores this gives the most
 * requests per second, at the cost of one copy of the model per process (for large tables, prefer
 * one process with `workers`, which share one copy). Each process watches and reloads the file
 * itself; /metrics sums every process's series; SIGTERM/SIGINT/SIGHUP reach every process.
 */
import cluster, { type Worker } from 'node:cluster';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { RecbridgeError } from '../core/errors';
import { expectInteger, rangeError } from '../core/validate';
import { loadPromClient } from './lazy-modules';
import { resolveOptions, type ServiceOptions } from './options';

/** The environment variable that carries a process's options (JSON). */
export const OPTIONS_ENV = 'RECBRIDGE_SERVICE_OPTIONS';

export interface ServiceClusterOptions extends ServiceOptions {
  /** Service processes (at least 1). */
  processes: number;
}

export interface ServiceCluster {
  /** `http://host:port`, shared by every process. */
  readonly url: string;
  readonly processes: number;
  /** Asks every process to reload the model file (SIGHUP). */
  reload(): void;
  /** Closes every process gracefully; resolves once all have exited, forced = one ran out of grace or failed. */
  close(): Promise<{ forced: boolean }>;
}

function workerScript(): string {
  const here = path.join(__dirname, 'cluster-worker.js');
  if (fs.existsSync(here)) return here;
  // Running from the TypeScript sources (tests): use the built package.
  const built = path.resolve(__dirname, '../../dist/service/cluster-worker.js');
  if (fs.existsSync(built)) return built;
  throw new RecbridgeError(
    'ERR_ADDON_LOAD',
    `The service cluster's worker script is missing (${here}); build the package with "npm run build"`,
  );
}

/** What survives JSON: the options without their callbacks. */
function portable(o: ServiceOptions): ServiceOptions {
  const { onListening: _l, metricsText: _m, recommender, logger, ...rest } = o;
  if (recommender?.userFeatures !== undefined)
    throw rangeError(
      'options.recommender.userFeatures',
      'no encoder with processes (a function cannot reach another process)',
      'an encoder',
    );
  // A logger's options travel without their stream (processes log to stderr).
  const log = typeof logger === 'object' ? Object.fromEntries(Object.entries(logger).filter(([k]) => k !== 'stream')) : logger;
  return { ...rest, ...(recommender ? { recommender } : {}), ...(log !== undefined ? { logger: log } : {}) };
}

/** Starts `processes` service processes; resolves once all listen and have loaded the model. */
export async function startServiceCluster(options: ServiceClusterOptions): Promise<ServiceCluster> {
  if (!cluster.isPrimary) throw new RecbridgeError('ERR_BUSY', 'startServiceCluster runs in the primary process only');
  const n = expectInteger('options.processes', options?.processes, 1, 256);
  const { processes: _p, ...service } = options;
  resolveOptions(service); // bad options fail here, once, before any process starts
  const env = { [OPTIONS_ENV]: JSON.stringify(portable(service)) };
  cluster.setupPrimary({ exec: workerScript(), args: [] });
  const aggregator = new (loadPromClient().AggregatorRegistry)();
  const workers = new Set<Worker>();
  let closing = false;
  let forced = false;
  let url = '';

  const onMessage = (worker: Worker, m: { type?: string; id?: number }) => {
    if (m?.type !== 'recbridge:metrics') return;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: 'recbridge:metrics', id: m.id, text }),
      (err: Error) =>
        worker.isConnected() && worker.send({ type: 'recbridge:metrics', id: m.id, text: `# metrics unavailable: ${err.message}\n` }),
    );
  };
  cluster.on('message', onMessage);

  /** Forks one process; resolves when it has loaded the model, rejects when it fails to start. */
  const fork = () =>
    new Promise<void>((resolve, reject) => {
      const w = cluster.fork(env);
      workers.add(w);
      let ready = false;
      w.on('message', (m: { type?: string; url?: string; message?: string; code?: string }) => {
        if (m?.type === 'recbridge:listening' && m.url && !url) {
          url = m.url;
          options.onListening?.(url);
        } else if (m?.type === 'recbridge:ready') {
          ready = true;
          resolve();
        } else if (m?.type === 'recbridge:failed') {
          const e = new Error(m.message ?? 'a service process failed to start') as Error & { code?: string };
          e.code = m.code;
          reject(e);
        }
      });
      w.on('exit', (code, signal) => {
        workers.delete(w);
        if (!ready) return reject(new RecbridgeError('ERR_NATIVE', `A service process exited (${signal ?? code}) before it was ready`));
        if (code !== 0) forced = true;
        // A process that dies while serving is replaced.
        if (!closing && code !== 0) void fork().catch(() => undefined);
      });
    });

  const stopAll = (signal: NodeJS.Signals) => {
    for (const w of workers) w.process.kill(signal);
  };
  const exited = () =>
    new Promise<void>((resolve) => {
      if (workers.size === 0) return resolve();
      const check = () => workers.size === 0 && resolve();
      for (const w of workers) w.once('exit', () => setImmediate(check));
    });

  try {
    await Promise.all(Array.from({ length: n }, fork));
  } catch (err) {
    closing = true;
    stopAll('SIGTERM');
    await exited();
    cluster.off('message', onMessage);
    throw err;
  }

  return {
    url,
    processes: n,
    reload: () => stopAll('SIGHUP'),
    async close() {
      if (!closing) {
        closing = true;
        stopAll('SIGTERM');
      }
      await exited();
      cluster.off('message', onMessage);
      return { forced };
    },
  };
}
