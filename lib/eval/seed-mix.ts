/**
 * Seeds derived from (seed, user, item, …) by hashing, so each user's (or test pair's) random
 * stream depends only on its own identity: results do not change with chunking, thread counts or
 * the other users in the test set.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
