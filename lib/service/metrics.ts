/**
 * The service's Prometheus metrics (prom-client), on a registry of its own so two services in one
 * process never share series. Request series are labelled by route, status and strategy; the
 * labelled children are cached by key, so observing a request does not hash a label object.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

import { loadPromClient } from './lazy-modules';

import type { ModelFileStat } from './model-loader';

/** Request latency buckets, in seconds: single requests take tens of microseconds to milliseconds. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

interface Children {
  count: Counter.Internal;
  latency: Histogram.Internal<string>;
}

export class ServiceMetrics {
  readonly registry: Registry;
  private readonly requests: Counter;
  private readonly latency: Histogram;
  private readonly children = new Map<string, Children>();
  private readonly version: Gauge;
  private readonly info: Gauge;
  private readonly mtime: Gauge;
  private readonly loadedAt: Gauge;
  private readonly reloads: Counter;
  private readonly workers: Gauge;

  constructor(options: { defaultMetrics?: boolean; prefix?: string } = {}) {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = loadPromClient();
    this.registry = new Registry();
    const p = options.prefix ?? 'recbridge_';
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP requests answered, by route, status and recommendation strategy',
      labelNames: ['route', 'status', 'strategy'],
      registers,
    });
    this.latency = new Histogram({
      name: `${p}http_request_duration_seconds`,
      help: 'Time from receiving a request to finishing its response, by route, status and strategy',
      labelNames: ['route', 'status', 'strategy'],
      buckets: BUCKETS,
      registers,
    });
    // Across the processes of a cluster (cluster.ts) series are summed; the model's gauges take the largest value.
    this.version = new Gauge({
      name: `${p}model_version`,
      help: 'Version of the model snapshot serving now (1, 2, … per swap)',
      registers,
      aggregator: 'max',
    });
    this.info = new Gauge({
      name: `${p}model_info`,
      help: 'The model serving now (value 1): its file, SHA-256 and table kind',
      labelNames: ['path', 'sha256', 'quantize', 'version'],
      registers,
      aggregator: 'max',
    });
    this.mtime = new Gauge({
      name: `${p}model_file_mtime_seconds`,
      help: "Modification time of the serving model's file",
      registers,
      aggregator: 'max',
    });
    this.loadedAt = new Gauge({
      name: `${p}model_loaded_timestamp_seconds`,
      help: 'When the serving model was loaded',
      registers,
      aggregator: 'max',
    });
    this.reloads = new Counter({
      name: `${p}model_reloads_total`,
      help: 'Model reloads by result: "ok" (swapped in) or "failed" (rejected; the previous model keeps serving)',
      labelNames: ['result'],
      registers,
    });
    this.workers = new Gauge({
      name: `${p}service_workers`,
      help: 'Worker threads answering requests, per process (0: the event loop)',
      registers,
      aggregator: 'max',
    });
    this.reloads.labels('ok').inc(0);
    this.reloads.labels('failed').inc(0);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  observe(route: string, status: number, strategy: string, seconds: number): void {
    const key = `${route}\n${status}\n${strategy}`;
    let c = this.children.get(key);
    if (c === undefined) {
      const labels = [route, String(status), strategy];
      c = { count: this.requests.labels(...labels), latency: this.latency.labels(...labels) };
      this.children.set(key, c);
    }
    c.count.inc();
    c.latency.observe(seconds);
  }

  model(file: ModelFileStat, version: number, quantize: string, loadedAt: number): void {
    this.version.set(version);
    this.info.reset();
    this.info.labels(file.path, file.sha256, quantize, String(version)).set(1);
    this.mtime.set(file.mtimeMs / 1000);
    this.loadedAt.set(loadedAt / 1000);
  }

  reloaded(ok: boolean): void {
    this.reloads.labels(ok ? 'ok' : 'failed').inc();
  }

  setWorkers(n: number): void {
    this.workers.set(n);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
