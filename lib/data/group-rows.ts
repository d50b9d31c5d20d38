/**
 * Shared pieces of the splitters: each user's rows in file order (a counting sort, so grouping is
 * stable and O(n)), the time check, and turning a per-row part label back into Interactions.
 */
import { ArgumentRangeError } from '../core/errors';
import { Interactions } from './interactions';
import { typeError } from '../core/validate';

/** Rows of user u are rows[starts[u] .. starts[u+1]), ascending (file order). */
export function rowsByUser(data: Interactions): { starts: Int32Array; rows: Int32Array } {
  const starts = new Int32Array(data.numUsers + 1);
  for (const u of data.users) starts[u + 1]++;
  for (let u = 0; u < data.numUsers; u++) starts[u + 1] += starts[u];
  const fill = starts.slice(0, data.numUsers);
  const rows = new Int32Array(data.size);
  for (let i = 0; i < data.size; i++) rows[fill[data.users[i]]++] = i;
  return { starts, rows };
}

export function expectInteractions(argument: string, data: unknown): Interactions {
  if (!(data instanceof Interactions)) throw typeError(argument, 'Interactions', data);
  return data;
}

/** The timestamps of data, or a clear error saying how to get them. */
export function expectTimestamps(argument: string, data: Interactions, why: string): Float64Array {
  if (data.timestamps) return data.timestamps;
  throw new ArgumentRangeError(
    `Expected Interactions with timestamps for ${argument} (${why}) but ${argument}.timestamps is null: load with a time column (options.time) or pass timestamps to new Interactions`,
    argument,
    'ERR_INVALID_ARG_VALUE',
  );
}

/** One Interactions per part: the rows labelled p, in file order. */
export function partsOf(data: Interactions, label: Int8Array | Int32Array, parts: number): Interactions[] {
  const counts = new Int32Array(parts);
  for (const p of label) if (p >= 0) counts[p]++;
  const positions = Array.from(counts, (c) => new Int32Array(c));
  const at = new Int32Array(parts);
  label.forEach((p, i) => {
    if (p >= 0) positions[p][at[p]++] = i;
  });
  return positions.map((pos) => data.subset(pos));
}

/** Fisher-Yates in place with a seeded uniform generator. */
export function shuffle(a: Int32Array, rand: () => number): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
