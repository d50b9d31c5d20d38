/**
 * `recbridge serve`: the HTTP JSON service over a model file (lib/service). The first line on
 * stdout is `listening on http://HOST:PORT`, so scripts can read the bound port (--port 0); logs go
 * to stderr as JSON lines. SIGTERM and SIGINT drain and exit, SIGHUP reloads the model.
 */
import { startServiceCluster } from '../service/cluster';
import type { ServiceOptions } from '../service/options';
import { handleSignals } from '../service/signals';
import { startService } from '../service/service';
import type { Args, CommandSpec } from './args';
import { INPUT_FLAGS, INPUT_FORMATS, inputOptions, requireFiles } from './input';

export const serve: CommandSpec = {
  name: 'serve',
  summary: 'HTTP JSON service over a model file: /recommend, /similar, /metrics, hot reload',
  synopsis: '--model FILE [options]',
  flags: {
    model: { value: 'FILE', help: 'the model file to serve (recbridge train, saveModel); replacing it reloads the service' },
    host: { value: 'HOST', help: 'interface to listen on (default 127.0.0.1; 0.0.0.0 for every interface)' },
    port: { value: 'N', help: 'TCP port (default 8080; 0 picks a free one, printed on the first line)' },
    seen: { value: 'FILE', help: "interactions whose items are excluded from their user's recommendations (excludeSeen)" },
    'seen-format': { value: 'F', help: 'format of the --seen file (see --header and the column flags)' },
    quantize: { value: 'Q', help: 'item table for scoring: f32 (default, exact), bf16, int8' },
    fallback: { value: 'F', help: 'users the model does not know: popularity (default) or error (a 404)' },
    threads: { value: 'T', help: 'threads per request (default 1)' },
    workers: { value: 'N', help: 'answer requests in N worker threads sharing one copy of the model (default 0: the event loop)' },
    processes: {
      value: 'N',
      help: 'N service processes on one port, each with its own copy of the model (default 1); the most requests/s on few cores',
    },
    'body-limit': { value: 'BYTES', help: 'largest request body; larger is a 413 (default 1048576)' },
    timeout: { value: 'MS', help: 'time to receive a request (408) or for a worker to answer (503) (default 10000)' },
    'max-k': { value: 'K', help: 'largest k a request may ask for (default 1000)' },
    grace: { value: 'MS', help: 'on SIGTERM/SIGINT, time in-flight requests get to finish (default 10000)' },
    'no-watch': { type: 'boolean', help: 'do not reload when the model file changes (SIGHUP still reloads)' },
    'poll-ms': { value: 'MS', help: 'stat polling interval of the watch, next to file events (default 2000; 0: events only)' },
    quiet: { type: 'boolean', short: 'q', help: 'log errors only' },
    ...Object.fromEntries(Object.entries(INPUT_FLAGS).filter(([k]) => k !== 'format')),
  },
  notes: `Routes: POST /recommend {user | history | vector, k, exclude, allow, excludeSeen}, POST /recommend/batch,
POST /similar {item, k, exclude, allow}, GET /healthz, GET /readyz, GET /metrics (Prometheus).
The column flags (--user-col, --item-col, …) describe the --seen file. See docs/serve.md.`,
  run,
};

async function run(args: Args): Promise<number> {
  const model = args.string('model');
  if (model === undefined) throw args.error('Expected --model FILE (a model saved by `recbridge train` or saveModel)');
  const seen = args.string('seen');
  requireFiles(args, { model, seen });
  const seenFormat = args.choice('seen-format', INPUT_FORMATS);
  const options: ServiceOptions = {
    model,
    seen,
    seenOptions: seen === undefined ? undefined : { ...inputOptions(args), ...(seenFormat ? { format: seenFormat } : {}) },
    host: args.string('host'),
    port: args.int('port', 0, 65535),
    quantize: args.choice('quantize', ['f32', 'bf16', 'int8'] as const),
    fallback: args.choice('fallback', ['popularity', 'error'] as const),
    threads: args.int('threads', 1, 256),
    workers: args.int('workers', 0, 256),
    bodyLimit: args.int('body-limit', 1, 2 ** 31 - 1),
    timeout: args.int('timeout', 1, 2 ** 31 - 1),
    maxK: args.int('max-k', 1, 1_000_000),
    grace: args.int('grace', 0, 2 ** 31 - 1),
    watch: !args.bool('no-watch'),
    pollMs: args.int('poll-ms', 0, 2 ** 31 - 1),
    logger: { level: args.bool('quiet') ? 'error' : 'info', stream: process.stderr },
    onListening: (url) => process.stdout.write(`listening on ${url}\n`),
  };
  const processes = args.int('processes', 1, 256) ?? 1;
  if (processes > 1) {
    const group = await startServiceCluster({ ...options, processes });
    return new Promise<number>((resolve) => {
      const stop = () => void group.close().then(({ forced }) => resolve(forced ? 1 : 0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.on('SIGHUP', () => group.reload());
    });
  }
  const service = await startService(options);
  return new Promise<number>((resolve) => {
    handleSignals(service, { onClosed: ({ forced }) => resolve(forced ? 1 : 0) });
  });
}
