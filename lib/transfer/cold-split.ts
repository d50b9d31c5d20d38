/**
 * The split every transfer comparison uses, so that all strategies see the same rows: a seeded
 * fraction of the aligned users become cold in the target (all their target rows held out: half of
 * those users for validation, half for test; their source rows stay), and every other target user's
 * rows are split per user by ratio (train / validation / test) to measure warm users too.
 */
import { splitByUser } from '../data/split';
import { uniformGenerator } from '../core/random';
import { Interactions } from '../data/interactions';
import { rangeError, typeError } from '../core/validate';
import type { Alignment } from './align';

export interface TransferSplit {
  /** Target rows that train (warm users only, plus any revealed cold-user shots). */
  train: Interactions;
  /** Target rows for early stopping and choices: warm users' validation rows and validation-cold users' rows. */
  validation: Interactions;
  /** Target rows for the report: warm users' test rows and test-cold users' rows. */
  test: Interactions;
  /** Cold users (target rows) whose rows are in validation, and those whose rows are in test. */
  coldValidationUsers: Int32Array;
  coldTestUsers: Int32Array;
  /** Per target row: 1 for a cold user. */
  isCold: Uint8Array;
}

export interface ColdSplitOptions {
  /** Fraction of aligned users made cold. Default 0.2. */
  coldFraction?: number;
  /** Warm users' per-user ratios (train, validation, test). Default [0.8, 0.1, 0.1]. */
  ratios?: number[];
  /** Target rows of each cold user revealed to training (few-shot cold start). Default 0. */
  coldShots?: number;
  seed?: number;
}

export function coldUserSplit(alignment: Alignment, options: ColdSplitOptions = {}): TransferSplit {
  const target = alignment.target.interactions;
  const fraction = options.coldFraction ?? 0.2;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))
    throw rangeError('options.coldFraction', 'number in (0, 1)', fraction);
  const shots = options.coldShots ?? 0;
  if (!Number.isInteger(shots) || shots < 0) throw rangeError('options.coldShots', 'integer ≥ 0', shots);
  const seed = options.seed ?? 0;
  const rand = uniformGenerator(seed + 0x5eed);
  // Candidates: aligned target users with at least one target row (a cold user must have something to test).
  const byUser = target.byUser();
  const candidates = Array.from(alignment.users.target).filter((u) => byUser.offsets[u + 1] > byUser.offsets[u]);
  candidates.sort((a, b) => a - b);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const nCold = Math.max(2, Math.round(candidates.length * fraction));
  if (candidates.length < 2 || nCold >= candidates.length) {
    throw rangeError(
      'alignment',
      'at least 3 aligned users with target interactions (some cold, some warm)',
      `${candidates.length} such users`,
    );
  }
  const cold = candidates.slice(0, nCold);
  const half = Math.floor(nCold / 2);
  const coldValidationUsers = Int32Array.from(cold.slice(0, half)).sort();
  const coldTestUsers = Int32Array.from(cold.slice(half)).sort();
  const isCold = new Uint8Array(target.numUsers);
  for (const u of cold) isCold[u] = 1;
  const isValidationCold = new Uint8Array(target.numUsers);
  for (const u of coldValidationUsers) isValidationCold[u] = 1;

  // Rows of cold users: the first `shots` (in a seeded order) train, the rest evaluate.
  const warmRows: number[] = [];
  const shotRows: number[] = [];
  const coldValRows: number[] = [];
  const coldTestRows: number[] = [];
  const seenShots = new Map<number, number>();
  const order = Int32Array.from({ length: target.size }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const row of order) {
    const u = target.users[row];
    if (!isCold[u]) {
      warmRows.push(row);
      continue;
    }
    const used = seenShots.get(u) ?? 0;
    if (used < shots) {
      seenShots.set(u, used + 1);
      shotRows.push(row);
    } else if (isValidationCold[u]) coldValRows.push(row);
    else coldTestRows.push(row);
  }
  const sorted = (rows: number[]) => Int32Array.from(rows).sort();
  const warm = target.subset(sorted(warmRows));
  const [train, validation, test] = splitWarmRows(warm, options.ratios, seed);
  return {
    train: shotRows.length ? Interactions.concat([train, target.subset(sorted(shotRows))]) : train,
    validation: Interactions.concat([validation, target.subset(sorted(coldValRows))]),
    test: Interactions.concat([test, target.subset(sorted(coldTestRows))]),
    coldValidationUsers,
    coldTestUsers,
    isCold,
  };
}

/**
 * Warm users' rows split per user by (train, validation, test) ratios. A validation share of 0 is
 * allowed (early stopping elsewhere or not at all): the validation part is then empty.
 */
function splitWarmRows(warm: Interactions, ratios: number[] | undefined, seed: number): [Interactions, Interactions, Interactions] {
  const r = ratios ?? [0.8, 0.1, 0.1];
  if (!Array.isArray(r) || r.length !== 3) throw rangeError('options.ratios', 'three ratios (train, validation, test)', r);
  if (r[1] === 0) {
    const [train, test] = splitByUser(warm, [r[0]!, r[2]!], seed);
    return [train!, warm.subset(new Int32Array(0)), test!];
  }
  const [train, validation, test] = splitByUser(warm, r, seed);
  return [train!, validation!, test!];
}

/** The rows of `data` whose user is (keep = true) or is not (keep = false) flagged. */
export function rowsByUserFlag(data: Interactions, flags: Uint8Array, keep: boolean): Interactions {
  const rows: number[] = [];
  for (let i = 0; i < data.size; i++) if ((flags[data.users[i]] === 1) === keep) rows.push(i);
  return data.subset(Int32Array.from(rows));
}

/** Flags for a list of rows. */
export function flagsOf(rows: ArrayLike<number>, size: number): Uint8Array {
  const flags = new Uint8Array(size);
  for (let i = 0; i < rows.length; i++) flags[rows[i]] = 1;
  return flags;
}

/**
 * A split given rather than drawn, so that a published cold-start split is reproduced exactly:
 * either the target's train, validation and test rows (a user with validation or test rows but no
 * train rows is cold), or the cold users (target rows) with every other user's rows split by ratio.
 */
export type FixedSplit =
  | { train: Interactions; validation: Interactions; test: Interactions }
  | {
      /** Cold users whose rows are tested; without coldValidationUsers half of them (seeded) validate instead. */
      coldUsers: Int32Array;
      coldValidationUsers?: Int32Array;
    };

export function fixedSplit(alignment: Alignment, split: FixedSplit, options: ColdSplitOptions = {}): TransferSplit {
  const target = alignment.target.interactions;
  if ('train' in split) {
    for (const [name, part] of Object.entries({ train: split.train, validation: split.validation, test: split.test })) {
      if (!(part instanceof Interactions)) throw typeError(`options.split.${name}`, 'Interactions', part);
      if (part.numUsers > target.numUsers || part.numItems > target.numItems)
        throw rangeError(
          `options.split.${name}`,
          `rows numbered like the target domain (≤ ${target.numUsers} users, ≤ ${target.numItems} items)`,
          `${part.numUsers} users, ${part.numItems} items`,
        );
    }
    const resize = (x: Interactions) =>
      x.numUsers === target.numUsers && x.numItems === target.numItems
        ? x
        : new Interactions({ users: x.users, items: x.items, numUsers: target.numUsers, numItems: target.numItems });
    const train = resize(split.train);
    const validation = resize(split.validation);
    const test = resize(split.test);
    const trained = flagsOf(train.users, target.numUsers);
    const coldOf = (part: Interactions) => {
      const out = new Set<number>();
      for (const u of part.users) if (!trained[u]) out.add(u);
      return Int32Array.from(out).sort();
    };
    const coldValidationUsers = coldOf(validation);
    const coldTestUsers = coldOf(test);
    const isCold = new Uint8Array(target.numUsers);
    for (const u of coldValidationUsers) isCold[u] = 1;
    for (const u of coldTestUsers) isCold[u] = 1;
    if (coldTestUsers.length === 0)
      throw rangeError('options.split.test', 'rows of at least one cold user (a user with no train rows)', 'none');
    return { train, validation, test, coldValidationUsers, coldTestUsers, isCold };
  }
  const listed = split.coldUsers;
  if (!(listed instanceof Int32Array)) throw typeError('options.split.coldUsers', 'Int32Array of target user rows', listed);
  const check = (name: string, users: Int32Array) => {
    for (const u of users)
      if (!(u >= 0 && u < target.numUsers)) throw rangeError(`options.split.${name}`, `user rows in [0, ${target.numUsers})`, u);
  };
  check('coldUsers', listed);
  let coldTest: number[];
  let coldValidation: number[];
  if (split.coldValidationUsers !== undefined) {
    if (!(split.coldValidationUsers instanceof Int32Array))
      throw typeError('options.split.coldValidationUsers', 'Int32Array of target user rows', split.coldValidationUsers);
    check('coldValidationUsers', split.coldValidationUsers);
    coldTest = [...new Set(listed)];
    coldValidation = [...new Set(split.coldValidationUsers)].filter((u) => !coldTest.includes(u));
  } else {
    const shuffled = [...new Set(listed)].sort((a, b) => a - b);
    const rand = uniformGenerator((options.seed ?? 0) + 0x5eed);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const half = Math.floor(shuffled.length / 2);
    coldValidation = shuffled.slice(0, half);
    coldTest = shuffled.slice(half);
  }
  const isCold = new Uint8Array(target.numUsers);
  const isValidationCold = new Uint8Array(target.numUsers);
  for (const u of coldTest) isCold[u] = 1;
  for (const u of coldValidation) {
    isCold[u] = 1;
    isValidationCold[u] = 1;
  }
  const warmRows: number[] = [];
  const coldValRows: number[] = [];
  const coldTestRows: number[] = [];
  for (let row = 0; row < target.size; row++) {
    const u = target.users[row]!;
    if (!isCold[u]) warmRows.push(row);
    else if (isValidationCold[u]) coldValRows.push(row);
    else coldTestRows.push(row);
  }
  if (coldTestRows.length === 0) throw rangeError('options.split.coldUsers', 'users with target rows to test', 'none of them has any');
  const [train, validation, test] = splitWarmRows(target.subset(Int32Array.from(warmRows)), options.ratios, options.seed ?? 0);
  return {
    train: train!,
    validation: Interactions.concat([validation!, target.subset(Int32Array.from(coldValRows))]),
    test: Interactions.concat([test!, target.subset(Int32Array.from(coldTestRows))]),
    coldValidationUsers: Int32Array.from(coldValidation).sort(),
    coldTestUsers: Int32Array.from(coldTest).sort(),
    isCold,
  };
}
