/**
 * Mean ± std over runs (seeds) of any result object: every numeric field, however nested (byK,
 * slices…), becomes { mean, std }; typed arrays (per-user data) are left out.
 */
import { typeError } from '../core/validate';

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1 denominator); 0 for a single run. */
  std: number;
}

/** T with every number replaced by its MeanStd (typed arrays dropped). */
export type Summary<T> = T extends number
  ? MeanStd
  : T extends ArrayBufferView
    ? never
    : T extends object
      ? { [K in keyof T as T[K] extends ArrayBufferView | undefined ? never : K]: Summary<NonNullable<T[K]>> }
      : never;

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = values.reduce((s, x) => s + x, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/**
 * Summarizes runs of the same shape. A field missing from some runs (auc in only some of them) is
 * summarized over the runs that have it. Returns the summary and the number of runs.
 */
export function summarize<T extends object>(runs: readonly T[]): { runs: number; summary: Summary<T> } {
  if (!Array.isArray(runs) || runs.length === 0 || runs.some((r) => r === null || typeof r !== 'object')) {
    throw typeError('runs', 'a non-empty array of result objects', runs);
  }
  return { runs: runs.length, summary: walk(runs as unknown[]) as Summary<T> };
}

function walk(values: unknown[]): unknown {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length === 0) return undefined;
  if (present.every((v) => typeof v === 'number')) return meanStd(present as number[]);
  if (present.every((v) => typeof v === 'object' && !ArrayBuffer.isView(v) && !Array.isArray(v))) {
    const keys = [...new Set(present.flatMap((v) => Object.keys(v as object)))];
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const child = walk(present.map((v) => (v as Record<string, unknown>)[key]));
      if (child !== undefined) out[key] = child;
    }
    return out;
  }
  // Typed arrays, arrays, strings: not summarized.
  return undefined;
}
