/**
 * Signal handling for a service run as a process: SIGTERM and SIGINT close it gracefully (in-flight
 * requests finish within the grace period), SIGHUP reloads the model file.
 */
import type { RecommendService } from './service';

export interface SignalOptions {
  /** Grace period for in-flight requests, ms. Default: the service's own (options.grace). */
  grace?: number;
  /** Called once the service has closed, with forced = the grace period ran out. Default: process.exit(forced ? 1 : 0). */
  onClosed?: (result: { forced: boolean; signal: NodeJS.Signals }) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function handleSignals(service: RecommendService, options: SignalOptions = {}): () => void {
  const onClosed = options.onClosed ?? (({ forced }) => process.exit(forced ? 1 : 0));
  const stop = (signal: NodeJS.Signals) => {
    service.app.log.info({ signal }, 'closing: finishing in-flight requests');
    service.close({ grace: options.grace }).then(
      ({ forced }) => onClosed({ forced, signal }),
      (err) => {
        service.app.log.error({ err }, 'close failed');
        onClosed({ forced: true, signal });
      },
    );
  };
  const hup = () => void service.reload({ force: true });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', hup);
  return () => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGHUP', hup);
  };
}
