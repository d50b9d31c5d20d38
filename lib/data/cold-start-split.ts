/**
 * User-level cold start: a seeded set of users has every row held out of training, half of them
 * (by user) for validation and half for test. In a cross-domain setting `data` is the target
 * domain and `candidates` the users that also appear in the source domain, whose source rows stay
 * available for transfer (the ML-100K genre split in ../shared/data/README.md works this way).
 */
import { uniformGenerator } from '../core/random';
import type { Interactions } from './interactions';
import { expectInteger, expectOptions, rangeError, toIndexArray, typeError } from '../core/validate';
import { expectInteractions, partsOf, shuffle } from './group-rows';

export interface ColdStartSplitOptions {
  /** Share of the candidate users to make cold, in (0, 1] (rounded to a whole number). Default 0.2. */
  fraction?: number;
  /** The cold users themselves (user rows), instead of drawing `fraction` of the candidates. */
  users?: Int32Array | ReadonlyArray<number>;
  /** Users eligible to be drawn (e.g. those also in another domain). Default: every user with a row in data. Users without rows are never drawn. */
  candidates?: Int32Array | ReadonlyArray<number>;
  /** Share of the cold users whose rows go to validation (the rest to test), in [0, 1]. Default 0.5. */
  validationFraction?: number;
  /** Default 0. */
  seed?: number;
}

export interface ColdStartSplit {
  /** Rows of every user that is not cold. */
  train: Interactions;
  validation: Interactions;
  test: Interactions;
  /** Sorted user rows. coldUsers = validationUsers ∪ testUsers, disjoint. */
  coldUsers: Int32Array;
  validationUsers: Int32Array;
  testUsers: Int32Array;
}

function sortedUnique(argument: string, value: unknown, bound: number): Int32Array {
  const a = Int32Array.from(toIndexArray(argument, value, bound)).sort();
  return a.filter((x, i) => i === 0 || x !== a[i - 1]);
}

export function coldStartSplit(data: Interactions, options?: ColdStartSplitOptions): ColdStartSplit {
  expectInteractions('data', data);
  const o = expectOptions('options', options);
  const seed = expectInteger('options.seed', o.seed ?? 0, 0, 2 ** 32 - 1);
  const vf = o.validationFraction ?? 0.5;
  if (typeof vf !== 'number' || !(vf >= 0 && vf <= 1)) throw rangeError('options.validationFraction', 'number in [0, 1]', vf);
  if (o.users !== undefined && o.fraction !== undefined) throw typeError('options', 'either users or fraction, not both', options);
  const rand = uniformGenerator(seed);
  const hasRows = new Uint8Array(data.numUsers);
  for (const u of data.users) hasRows[u] = 1;

  let cold: Int32Array;
  if (o.users !== undefined) {
    cold = shuffle(sortedUnique('options.users', o.users, data.numUsers), rand);
  } else {
    const fraction = o.fraction ?? 0.2;
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1))
      throw rangeError('options.fraction', 'number in (0, 1]', fraction);
    const pool =
      o.candidates === undefined
        ? Int32Array.from({ length: data.numUsers }, (_, u) => u)
        : sortedUnique('options.candidates', o.candidates, data.numUsers);
    const eligible = shuffle(
      pool.filter((u) => hasRows[u] === 1),
      rand,
    );
    cold = eligible.subarray(0, Math.round(fraction * eligible.length));
  }
  // The first share of the (shuffled) cold users validates, the rest tests.
  const nv = Math.round(vf * cold.length);
  const validationUsers = Int32Array.from(cold.subarray(0, nv)).sort();
  const testUsers = Int32Array.from(cold.subarray(nv)).sort();
  const role = new Int8Array(data.numUsers); // 0 train, 1 validation, 2 test
  validationUsers.forEach((u) => (role[u] = 1));
  testUsers.forEach((u) => (role[u] = 2));
  const label = Int8Array.from(data.users, (u) => role[u]);
  const [train, validation, test] = partsOf(data, label, 3);
  return { train, validation, test, coldUsers: Int32Array.from(cold).sort(), validationUsers, testUsers };
}
