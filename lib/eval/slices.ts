/**
 * User groups for sliced evaluation (evaluateSlices): activity buckets by number of training
 * interactions.
 */
import { Interactions } from '../data/interactions';
import { expectInteger, rangeError, typeError } from '../core/validate';

/**
 * Slices users by how many training interactions they have (every interaction counts, repeats
 * included). `edges` are ascending thresholds: edges [5, 20] give "0-4", "5-19" and "20+"; a
 * first edge of 0 is allowed and simply drops the lowest bucket. `users` (default
 * train.numUsers) covers users beyond the data, who fall in the first bucket.
 */
export function activityBuckets(train: Interactions, edges: readonly number[], users?: number): Record<string, Int32Array> {
  if (!(train instanceof Interactions)) throw typeError('train', 'Interactions', train);
  if (!Array.isArray(edges) || edges.length === 0) throw typeError('edges', 'non-empty array of ascending integers', edges);
  edges.forEach((e, i) => {
    expectInteger(`edges[${i}]`, e, 0);
    if (i > 0 && e <= edges[i - 1]) throw rangeError(`edges[${i}]`, `an integer above edges[${i - 1}] (${edges[i - 1]})`, e);
  });
  const n = users === undefined ? train.numUsers : expectInteger('users', users, train.numUsers, 2 ** 31 - 1);
  const counts = new Int32Array(n);
  for (const u of train.users) counts[u]++;
  const bounds = edges[0] === 0 ? [...edges] : [0, ...edges];
  const names = bounds.map((lo, b) =>
    b + 1 < bounds.length ? (bounds[b + 1] - 1 === lo ? `${lo}` : `${lo}-${bounds[b + 1] - 1}`) : `${lo}+`,
  );
  const members: number[][] = bounds.map(() => []);
  for (let u = 0; u < n; u++) {
    let b = bounds.length - 1;
    while (counts[u] < bounds[b]) b--;
    members[b].push(u);
  }
  return Object.fromEntries(names.map((name, b) => [name, Int32Array.from(members[b])]));
}
