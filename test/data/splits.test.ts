// Split invariants on generated data: parts are disjoint and complete, seeded splits reproduce and
// differ across seeds, leave-one-out holds out the latest by time, temporal cuts respect time, and
// cold-start users have no training rows.
import { Interactions, coldStartSplit, leaveOneOut, splitByUser, temporalSplit, uniformGenerator } from '../../lib';

function generated(numUsers = 40, numItems = 60, seed = 5): Interactions {
  const rand = uniformGenerator(seed);
  const users: number[] = [];
  const items: number[] = [];
  const timestamps: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const n = u % 7; // 0 … 6 rows: includes users too small to split
    for (let k = 0; k < n; k++) {
      users.push(u);
      items.push(Math.floor(rand() * numItems));
      timestamps.push(Math.floor(rand() * 20)); // few distinct times: many ties
    }
  }
  return new Interactions({ users, items, timestamps, values: users.map((_, i) => i), numUsers, numItems });
}

// Each row carries its position as its value, so parts can be traced back to the source rows.
const origin = (x: Interactions) => Array.from(x.values!);

function expectPartition(data: Interactions, parts: Interactions[], fileOrder = true) {
  const all = parts.flatMap(origin).sort((a, b) => a - b);
  expect(all).toEqual(origin(data)); // disjoint and complete
  for (const p of parts) {
    expect([p.numUsers, p.numItems]).toEqual([data.numUsers, data.numItems]);
    origin(p).forEach((row, k) => {
      expect(p.users[k]).toBe(data.users[row]);
      expect(p.items[k]).toBe(data.items[row]);
      expect(p.timestamps![k]).toBe(data.timestamps![row]);
    });
    const o = origin(p);
    if (fileOrder) expect(o).toEqual([...o].sort((a, b) => a - b));
  }
}

const rowsOf = (x: Interactions, u: number) => origin(x).filter((_r, k) => x.users[k] === u);

describe('Interactions timestamps', () => {
  test('kept by subset and concat (only when every part has them), checked on input', () => {
    const data = generated();
    const sub = data.subset(Int32Array.from([3, 1]));
    expect(Array.from(sub.timestamps!)).toEqual([data.timestamps![3], data.timestamps![1]]);
    expect(Interactions.concat([sub, sub]).timestamps!.length).toBe(4);
    const untimed = new Interactions({ users: [0], items: [0], values: [0] });
    expect(Interactions.concat([sub, untimed]).timestamps).toBeNull();
    expect(() => new Interactions({ users: [0], items: [0], timestamps: [NaN] })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.timestamps[0]') }),
    );
    expect(() => new Interactions({ users: [0], items: [0], timestamps: [1, 2] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => new Interactions({ users: [0], items: [0], timestamps: 'now' as never })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    const own = new Float64Array([1]);
    const copy = new Interactions({ users: [0], items: [0], timestamps: own });
    own[0] = 2;
    expect(copy.timestamps![0]).toBe(1);
  });
});

describe('leaveOneOut', () => {
  const data = generated();

  test('by time: the latest row is test, the one before validation, ties broken by file order', () => {
    const [train, valid, test] = leaveOneOut(data, { by: 'time' });
    expectPartition(data, [train, valid, test]);
    for (let u = 0; u < data.numUsers; u++) {
      const mine = origin(data).filter((r) => data.users[r] === u);
      const ordered = [...mine].sort((a, b) => data.timestamps![a] - data.timestamps![b] || a - b);
      const n = mine.length;
      expect(rowsOf(test, u)).toEqual(n >= 2 ? [ordered[n - 1]] : []);
      expect(rowsOf(valid, u)).toEqual(n >= 3 ? [ordered[n - 2]] : []);
      expect(rowsOf(train, u).length).toBe(n - (n >= 2 ? 1 : 0) - (n >= 3 ? 1 : 0));
      for (const r of rowsOf(train, u)) expect(data.timestamps![r]).toBeLessThanOrEqual(data.timestamps![ordered[n - 1]]);
    }
  });

  test('a tie in time goes to the later line', () => {
    const tied = new Interactions({ users: [0, 0, 0], items: [0, 1, 2], timestamps: [5, 9, 9] });
    const [train, test] = leaveOneOut(tied, { by: 'time', validation: false });
    expect(Array.from(test.items)).toEqual([2]);
    expect(Array.from(train.items)).toEqual([0, 1]);
  });

  test('random: seeded, one row per user held out, different seeds differ', () => {
    const a = leaveOneOut(data, { by: 'random', seed: 3 });
    const b = leaveOneOut(data, { by: 'random', seed: 3 });
    const c = leaveOneOut(data, { by: 'random', seed: 4 });
    expectPartition(data, a);
    expect(origin(b[2])).toEqual(origin(a[2]));
    expect(origin(c[2])).not.toEqual(origin(a[2]));
    const [, , test] = a;
    const perUser = new Map<number, number>();
    test.users.forEach((u) => perUser.set(u, (perUser.get(u) ?? 0) + 1));
    expect([...perUser.values()].every((n) => n === 1)).toBe(true);
  });

  test('by time without timestamps is a clear error', () => {
    const untimed = new Interactions({ users: [0, 0], items: [0, 1] });
    expect(() => leaveOneOut(untimed, { by: 'time' })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('timestamps') }),
    );
    expect(() => leaveOneOut(untimed, { by: 'latest' as 'time' })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.by') }),
    );
    expect(leaveOneOut(untimed, { by: 'random', validation: false })[1].size).toBe(1);
  });
});

describe('temporalSplit', () => {
  const data = generated();

  test('explicit cuts: every row lands in the part of its time', () => {
    const parts = temporalSplit(data, { cut: [5, 12] });
    expectPartition(data, parts);
    expect(parts.length).toBe(3);
    expect(Array.from(parts[0].timestamps!).every((t) => t < 5)).toBe(true);
    expect(Array.from(parts[1].timestamps!).every((t) => t >= 5 && t < 12)).toBe(true);
    expect(Array.from(parts[2].timestamps!).every((t) => t >= 12)).toBe(true);
    expect(temporalSplit(data, { cut: 10 }).length).toBe(2);
  });

  test('ratios: exact sizes, no part earlier than the one before it', () => {
    const parts = temporalSplit(data, { ratios: [0.8, 0.1, 0.1] });
    expectPartition(data, parts);
    const n = data.size;
    expect(parts.map((p) => p.size)).toEqual([n - 2 * Math.floor(0.1 * n), Math.floor(0.1 * n), Math.floor(0.1 * n)]);
    const max = (x: Interactions) => Math.max(...x.timestamps!);
    const min = (x: Interactions) => Math.min(...x.timestamps!);
    expect(max(parts[0])).toBeLessThanOrEqual(min(parts[1]));
    expect(max(parts[1])).toBeLessThanOrEqual(min(parts[2]));
  });

  test('bad options name the argument', () => {
    expect(() => temporalSplit(data, { cut: [5, 5] })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.cut[1]') }),
    );
    expect(() => temporalSplit(data, { ratios: [0.5, 0.4] })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('options.ratios') }),
    );
    expect(() => temporalSplit(data, {} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => temporalSplit(new Interactions({ users: [0], items: [0] }), { cut: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});

describe('coldStartSplit', () => {
  const data = generated(200, 50);

  test('cold users have no training rows; their rows go to validation or test by user', () => {
    const s = coldStartSplit(data, { fraction: 0.2, seed: 9 });
    expectPartition(data, [s.train, s.validation, s.test]);
    const active = new Set(data.users).size;
    expect(s.coldUsers.length).toBe(Math.round(0.2 * active));
    expect(s.validationUsers.length).toBe(Math.round(0.5 * s.coldUsers.length));
    expect([...s.validationUsers, ...s.testUsers].sort((a, b) => a - b)).toEqual(Array.from(s.coldUsers));
    const cold = new Set(s.coldUsers);
    expect(Array.from(s.train.users).some((u) => cold.has(u))).toBe(false);
    expect(new Set(s.validation.users)).toEqual(new Set(s.validationUsers));
    expect(new Set(s.test.users)).toEqual(new Set(s.testUsers));
    // Every row of a cold user is held out.
    for (const u of s.coldUsers) expect(rowsOf(s.validation, u).length + rowsOf(s.test, u).length).toBe(rowsOf(data, u).length);
  });

  test('seeded: same seed same users, another seed other users', () => {
    const a = coldStartSplit(data, { seed: 1 });
    expect(coldStartSplit(data, { seed: 1 }).testUsers).toEqual(a.testUsers);
    expect(coldStartSplit(data, { seed: 2 }).coldUsers).not.toEqual(a.coldUsers);
  });

  test('candidates restrict the draw (users without rows are never drawn); explicit users', () => {
    const candidates = Int32Array.from({ length: 100 }, (_, k) => 2 * k); // even users; u % 7 === 0 have no rows
    const s = coldStartSplit(data, { candidates, fraction: 0.5, validationFraction: 0, seed: 3 });
    expect(Array.from(s.coldUsers).every((u) => u % 2 === 0 && u % 7 !== 0)).toBe(true);
    expect(s.validation.size).toBe(0);
    expect(s.testUsers).toEqual(s.coldUsers);
    const given = coldStartSplit(data, { users: [3, 1, 3, 2] });
    expect(Array.from(given.coldUsers)).toEqual([1, 2, 3]);
    expect(() => coldStartSplit(data, { users: [1], fraction: 0.1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => coldStartSplit(data, { fraction: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.fraction') }),
    );
    expect(() => coldStartSplit(data, { candidates: [500] })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.candidates[0]') }),
    );
  });
});

test('splitByUser keeps timestamps with their rows (in its own shuffled order, unchanged)', () => {
  const data = generated();
  expectPartition(data, splitByUser(data, [0.8, 0.1, 0.1], 2020), false);
});
