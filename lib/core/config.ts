/**
 * Process-wide settings: the default thread count and the instruction set the kernels use.
 */
import * as os from 'node:os';

import { RecbridgeError } from './errors';
import { native, type IsaName } from './native';
import { expectPositiveInteger, typeError, rangeError } from './validate';

export type { IsaName } from './native';

export interface Capabilities {
  /** Kernel path in use now ('avx512', 'avx2' or 'scalar'). */
  isa: IsaName;
  /** Best path this CPU and OS support. */
  detectedIsa: IsaName;
  /** Every path this CPU can run, lowest first. */
  supportedIsas: IsaName[];
  /** Default `threads` for calls that do not pass one. */
  threads: number;
  /** CPUs available to this process. */
  hardwareThreads: number;
  /** Node-API version the addon was built against (it runs on any Node.js offering at least this). */
  napiVersion: number;
}

/** Upper bound for `threads`: the native pool never grows beyond this. */
export const MAX_THREADS = 256;

function defaultThreads(): number {
  const env = process.env.RECBRIDGE_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1 && n <= MAX_THREADS) return n;
  }
  return Math.max(1, Math.min(MAX_THREADS, os.availableParallelism()));
}

let threads = defaultThreads();

/** What the native core is running with. */
export function capabilities(): Capabilities {
  const c = native.capabilities();
  return {
    isa: c.isa,
    detectedIsa: c.detectedIsa,
    supportedIsas: c.supportedIsas,
    threads,
    hardwareThreads: c.hardwareThreads,
    napiVersion: c.napiVersion,
  };
}

export interface ConfigureOptions {
  /**
   * Default number of threads (the calling thread included) for multi-threaded kernels when a call
   * passes no `threads`. Default: the CPUs available to the process (`RECBRIDGE_THREADS` overrides).
   * `1` makes every call single-threaded.
   */
  threads?: number;
}

/** Changes process-wide defaults. Applies to calls made after it returns. */
export function configure(options: ConfigureOptions): void {
  if (options === null || typeof options !== 'object') throw typeError('options', 'options object', options);
  if (options.threads !== undefined) threads = expectPositiveInteger('options.threads', options.threads, MAX_THREADS);
}

/** The default thread count (see configure). */
export function defaultThreadCount(): number {
  return threads;
}

/** Resolves a per-call `threads` option against the default. */
export function resolveThreads(argument: string, value: unknown): number {
  return value === undefined ? threads : expectPositiveInteger(argument, value, MAX_THREADS);
}

const ISA_NAMES: readonly IsaName[] = ['scalar', 'avx2', 'avx512'];

/**
 * Forces the kernels onto one instruction-set path ('scalar', 'avx2', 'avx512'), or back to the
 * detected best with `null`. Process-wide (all threads and workers share it): meant for tests,
 * benchmarks and diagnosing a suspected SIMD problem. `RECBRIDGE_ISA` sets it at load time.
 * Throws `ERR_ISA_UNSUPPORTED` when this CPU cannot run the requested path.
 */
export function setIsa(isa: IsaName | null): void {
  if (isa !== null && typeof isa !== 'string') throw typeError('isa', '"scalar", "avx2", "avx512" or null', isa);
  if (isa !== null && !ISA_NAMES.includes(isa)) throw rangeError('isa', '"scalar", "avx2", "avx512" or null', isa);
  native.setIsa(isa);
}

const envIsa = process.env.RECBRIDGE_ISA;
if (envIsa !== undefined && envIsa !== '' && envIsa !== 'auto') {
  if (!ISA_NAMES.includes(envIsa as IsaName)) {
    throw new RecbridgeError('ERR_ISA_UNSUPPORTED', `RECBRIDGE_ISA must be scalar, avx2, avx512 or auto, not ${JSON.stringify(envIsa)}`);
  }
  setIsa(envIsa as IsaName);
}
