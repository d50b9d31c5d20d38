/**
 * Leave-one-out: per user, the latest interaction (by time, or a seeded random one) is the test
 * item and, with validation, the one before it the validation item. A user needs one interaction
 * left for training: with 2 interactions only the test item is held out, with 1 the user stays
 * entirely in train (so every evaluated user has training history).
 */
import { uniformGenerator } from '../core/random';
import type { Interactions } from './interactions';
import { expectBoolean, expectInteger, expectOptions, rangeError } from '../core/validate';
import { expectInteractions, expectTimestamps, partsOf, rowsByUser, shuffle } from './group-rows';

export interface LeaveOneOutOptions {
  /** 'time': the last interactions by timestamp (ties: the later line wins); 'random': seeded picks. */
  by: 'time' | 'random';
  /** Hold out a validation interaction too (returns [train, validation, test]). Default true. */
  validation?: boolean;
  /** Seed for by: 'random'. Default 0. */
  seed?: number;
}

export function leaveOneOut(data: Interactions, options: LeaveOneOutOptions): Interactions[] {
  expectInteractions('data', data);
  const o = expectOptions('options', options);
  if (o.by !== 'time' && o.by !== 'random') throw rangeError('options.by', '"time" or "random"', o.by);
  const validation = o.validation === undefined ? true : expectBoolean('options.validation', o.validation);
  const seed = expectInteger('options.seed', o.seed ?? 0, 0, 2 ** 32 - 1);
  const times = o.by === 'time' ? expectTimestamps('data', data, 'leave-one-out by time') : null;
  const rand = uniformGenerator(seed);
  const { starts, rows } = rowsByUser(data);
  // Labels: 0 train, 1 validation, 2 test (collapsed to [train, test] without validation).
  const label = new Int8Array(data.size);
  for (let u = 0; u < data.numUsers; u++) {
    const seg = rows.subarray(starts[u], starts[u + 1]);
    const n = seg.length;
    if (n < 2) continue;
    // Order the user's rows so the held-out ones come last: by (time, line), or shuffled.
    if (times) seg.sort((a, b) => times[a] - times[b] || a - b);
    else shuffle(seg, rand);
    label[seg[n - 1]] = validation ? 2 : 1;
    if (validation && n >= 3) label[seg[n - 2]] = 1;
  }
  return partsOf(data, label, validation ? 3 : 2);
}
