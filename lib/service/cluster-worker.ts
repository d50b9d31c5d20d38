/**
 * One process of a service cluster (see cluster.ts): a RecommendService started with the options
 * the primary passed in the environment, reporting to the primary over IPC. GET /metrics asks the
 * primary for every process's metrics, summed.
 */
import { AggregatorRegistry } from 'prom-client';

import { OPTIONS_ENV } from './cluster';
import type { ServiceOptions } from './options';
import { RecommendService } from './service';
import { handleSignals } from './signals';

type ToPrimary =
  | { type: 'recbridge:listening'; url: string }
  | { type: 'recbridge:ready' }
  | { type: 'recbridge:failed'; message: string; code?: string }
  | { type: 'recbridge:metrics'; id: number };

const send = (m: ToPrimary) => process.send?.(m);

async function main(): Promise<void> {
  const options = JSON.parse(process.env[OPTIONS_ENV] ?? '{}') as ServiceOptions;
  let nextId = 0;
  const pending = new Map<number, (text: string) => void>();
  process.on('message', (m: { type?: string; id?: number; text?: string }) => {
    if (m?.type === 'recbridge:metrics' && typeof m.id === 'number') {
      pending.get(m.id)?.(m.text ?? '');
      pending.delete(m.id);
    }
  });
  // The listeners through which the primary collects this process's metrics.
  new AggregatorRegistry();
  let service: RecommendService;
  try {
    service = await RecommendService.start({
      ...options,
      // Logs go to stderr: the primary's stdout carries the address line.
      logger: typeof options.logger === 'object' ? { ...options.logger, stream: process.stderr } : options.logger,
      onListening: (url) => send({ type: 'recbridge:listening', url }),
      metricsText: () =>
        new Promise<string>((resolve) => {
          const id = nextId++;
          pending.set(id, resolve);
          send({ type: 'recbridge:metrics', id });
        }),
    });
  } catch (err) {
    const e = err as { message?: string; code?: string };
    send({ type: 'recbridge:failed', message: e?.message ?? String(err), code: e?.code });
    process.exit(1);
  }
  AggregatorRegistry.setRegistries([service.metrics.registry]);
  send({ type: 'recbridge:ready' });
  handleSignals(service, { onClosed: ({ forced }) => process.exit(forced ? 1 : 0) });
  // The primary went away without a signal: close as if told to.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

// Only as a process forked by startServiceCluster (which passes the options and an IPC channel).
if (process.env[OPTIONS_ENV] !== undefined && process.send) void main();
