/**
 * AUC from a user's full ranking (every unmasked item, best first, with scores): the probability
 * that a relevant item outscores a non-relevant one, ties counting one half. Relevant items that
 * were masked are not in the ranking and do not count; with no relevant or no other item the user
 * scores 0.5 (no information).
 */
export function rankingAuc(indices: Int32Array, scores: Float32Array, relevant: Int32Array): number {
  const isRelevant = (item: number) => {
    let lo = 0;
    let hi = relevant.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (relevant[mid] < item) lo = mid + 1;
      else hi = mid;
    }
    return lo < relevant.length && relevant[lo] === item;
  };
  let pos = 0;
  for (let i = 0; i < indices.length; i++) if (isRelevant(indices[i])) pos++;
  const neg = indices.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  // Walk groups of equal score from the top; negatives below a group are wins, inside it half.
  let wins = 0;
  let negAbove = 0;
  for (let i = 0; i < indices.length; ) {
    let j = i;
    let p = 0;
    while (j < indices.length && scores[j] === scores[i]) {
      if (isRelevant(indices[j])) p++;
      j++;
    }
    const n = j - i - p;
    wins += p * (neg - negAbove - n) + (p * n) / 2;
    negAbove += n;
    i = j;
  }
  return wins / (pos * neg);
}
