import { Domain, Interactions, MatrixFactorization, Vocabulary, alignDomains, looksLikeIntegerRange, runSchedule } from '../../lib';
import { planted } from '../support/planted';

function domain(name: string, users: string[], items: string[], pairs: Array<[number, number]>): Domain {
  return new Domain({
    name,
    interactions: Interactions.fromPairs(pairs, { numUsers: users.length, numItems: items.length }),
    users: new Vocabulary(users),
    items: new Vocabulary(items),
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('alignDomains', () => {
  const source = domain(
    's',
    ['a', 'b', 'c', 'd'],
    ['x', 'y'],
    [
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
    ],
  );
  const target = domain(
    't',
    ['c', 'e', 'a'],
    ['y', 'z'],
    [
      [0, 0],
      [1, 1],
      [2, 1],
    ],
  );

  test('pairs users by shared ids and reports the overlap', () => {
    const a = alignDomains(source, target);
    expect(Array.from(a.users.source)).toEqual([0, 2]);
    expect(Array.from(a.users.target)).toEqual([2, 0]);
    expect(Array.from(a.userToSource)).toEqual([2, -1, 0]);
    expect(a.report).toMatchObject({ sharedUsers: 2, sourceUsers: 4, targetUsers: 3, sharedItems: 0 });
  });

  test('items by shared ids, and users by a link table with unknown ids counted', () => {
    const a = alignDomains(source, target, {
      items: 'shared-ids',
      userLinks: [
        ['b', 'e'],
        ['zz', 'a'],
        ['d', 'c'],
      ],
    });
    expect(Array.from(a.items.source)).toEqual([1]);
    expect(Array.from(a.items.target)).toEqual([0]);
    expect(Array.from(a.users.source)).toEqual([1, 3]);
    expect(Array.from(a.users.target)).toEqual([1, 0]);
    expect(a.report.unknownLinks).toBe(1);
  });

  test('no overlap, ambiguous links and bad options are typed errors', () => {
    const other = domain('o', ['q'], ['w'], [[0, 0]]);
    expect(codeOf(() => alignDomains(source, other))).toBe('ERR_NO_OVERLAP');
    expect(
      codeOf(() =>
        alignDomains(source, target, {
          userLinks: [
            ['a', 'c'],
            ['b', 'c'],
          ],
        }),
      ),
    ).toBe('ERR_MALFORMED_DATA');
    expect(codeOf(() => alignDomains(source, target, { users: 'names' as never }))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => alignDomains(source, target, { userLinks: [['a']] as never }))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => alignDomains({} as never, target))).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('alignment overlap and integer ids', () => {
  // Two domains numbered 1..n independently: their "shared" ids are coincidence.
  const numbered = (name: string, n: number, from = 1, prefix = '') =>
    domain(
      name,
      Array.from({ length: n }, (_, i) => `${prefix}${i + from}`),
      ['x', 'y'],
      Array.from({ length: n }, (_, u) => [u, u % 2] as [number, number]),
    );

  test('the report gives the overlap as a share of each domain', () => {
    const a = alignDomains(numbered('s', 8, 1, 'u'), numbered('t', 4, 3, 'u'), { items: 'shared-ids' });
    // Source u1..u8, target u3..u6: 4 shared, all of the target's, half of the source's.
    expect(a.report).toMatchObject({
      sharedUsers: 4,
      sharedUserShare: { source: 0.5, target: 1 },
      sharedItems: 2,
      sharedItemShare: { source: 1, target: 1 },
      userAlignment: 'shared-ids',
      itemAlignment: 'shared-ids',
      numericIdRanges: [],
      trustedNumericIds: false,
    });
  });

  test('integer ranges in both domains need a confirmation, a link table or namespaced ids', () => {
    const source = numbered('s', 50);
    const target = numbered('t', 30, 0);
    let error: { code?: string; message?: string } = {};
    try {
      alignDomains(source, target);
    } catch (err) {
      error = err as typeof error;
    }
    expect(error.code).toBe('ERR_ALIGNMENT_UNCONFIRMED');
    expect(error.message).toMatch(/users of "s" and "t".*trustNumericIds: true.*"s:123".*userLinks/);
    const trusted = alignDomains(source, target, { trustNumericIds: true });
    expect(trusted.report).toMatchObject({ sharedUsers: 29, numericIdRanges: ['users'], trustedNumericIds: true });
    // A link table says which ids are the same person: no guessing involved.
    const linked = alignDomains(source, target, { userLinks: [['7', '3']] });
    expect(linked.report).toMatchObject({ sharedUsers: 1, numericIdRanges: [], userAlignment: 'links' });
    // Namespaced ids match only where the caller made them match.
    const s2 = numbered('s', 50, 1, 's:');
    const t2 = numbered('t', 30, 0, 't:');
    expect(codeOf(() => alignDomains(s2, t2))).toBe('ERR_NO_OVERLAP');
    expect(alignDomains(s2, t2, { userLinks: [['s:7', 't:3']] }).report.sharedUsers).toBe(1);
    // Domains built without vocabularies number their rows 0..n-1: the same question.
    const bare = (n: number) =>
      new Domain({ name: 'bare', interactions: Interactions.fromPairs(Array.from({ length: n }, (_, u) => [u, 0])) });
    expect(codeOf(() => alignDomains(bare(5), bare(6)))).toBe('ERR_ALIGNMENT_UNCONFIRMED');
    expect(codeOf(() => alignDomains(source, target, { trustNumericIds: 'yes' as never }))).toBe('ERR_INVALID_ARG_TYPE');
  });

  test('what counts as an integer range', () => {
    const v = (ids: string[]) => looksLikeIntegerRange(new Vocabulary(ids));
    expect(v(['1', '2', '3'])).toBe(true);
    expect(v(['0', '2', '4', '6'])).toBe(true); // 4 of the 7 ids in 0..6
    expect(v(['0', '3', '6', '9', '12'])).toBe(false); // 5 of the 13: too sparse for a running number
    expect(v(['5', '6', '7'])).toBe(false); // does not start at 0 or 1
    expect(v(['1', '100000'])).toBe(false); // customer numbers, not a range
    expect(v(['1', 'x'])).toBe(false);
    expect(v(['1', '-2'])).toBe(false);
    expect(v([])).toBe(false);
  });
});

describe('runSchedule', () => {
  const { train } = planted(80, 40, 3);
  const fit = { epochs: 2, threads: 1, optimizer: { type: 'sgd' as const, lr: 0.05 } };

  test('phases run in order with only their parameters trainable, and flags come back', async () => {
    const model = new MatrixFactorization({ users: 80, items: 40, dim: 8, itemBias: true });
    const user0 = model.userEmbedding.table.data.slice();
    const item0 = model.itemEmbedding.table.data.slice();
    const order: string[] = [];
    // Tables as each phase starts: what changed in between is what that phase trained.
    const seen: Array<{ user: Float32Array; item: Float32Array }> = [];
    const reports = await runSchedule(
      model,
      [
        { name: 'items', data: train, train: ['item.*'] },
        { name: 'users', data: train, train: ['user.*'] },
      ],
      {
        ...fit,
        onPhase: (name) => {
          order.push(name);
          seen.push({ user: model.userEmbedding.table.data.slice(), item: model.itemEmbedding.table.data.slice() });
        },
      },
    );
    expect(order).toEqual(['items', 'users']);
    // Phase 1 trained items only; phase 2 users only.
    expect(seen[1].user).toEqual(user0);
    expect(seen[1].item).not.toEqual(item0);
    expect(model.itemEmbedding.table.data).toEqual(seen[1].item);
    expect(model.userEmbedding.table.data).not.toEqual(seen[1].user);
    expect(reports.map((r) => r.trainable)).toEqual([['item.embedding', 'item.bias'], ['user.embedding']]);
    expect(model.parameters().every((p) => p.trainable && p.lrMultiplier === 1)).toBe(true);
    expect(model.userEmbedding.table.data).not.toEqual(user0);
    expect(model.itemEmbedding.table.data).not.toEqual(item0);
  });

  test('a frozen parameter and frozen rows are bit-identical after fine-tuning', async () => {
    const model = new MatrixFactorization({ users: 80, items: 40, dim: 8 });
    const users = model.userEmbedding.table.data.slice();
    const items = model.itemEmbedding.table.data.slice();
    await runSchedule(model, [{ data: train, train: ['item.*'], freezeRows: { 'item.embedding': [0, 1, 2, 3] } }], fit);
    expect(model.userEmbedding.table.data).toEqual(users);
    expect(model.itemEmbedding.table.data.subarray(0, 32)).toEqual(items.subarray(0, 32));
    expect(model.itemEmbedding.table.data.subarray(32)).not.toEqual(items.subarray(32));
    expect(model.itemEmbedding.frozenRowCount).toBe(0);
  });

  test('the loss weight scales the steps exactly like the learning rate (SGD)', async () => {
    const a = new MatrixFactorization({ users: 80, items: 40, dim: 8 });
    const b = new MatrixFactorization({ users: 80, items: 40, dim: 8 });
    await runSchedule(a, [{ data: train, lossWeight: 2 }], fit);
    await runSchedule(b, [{ data: train }], { ...fit, optimizer: { type: 'sgd', lr: 0.1 } });
    expect(a.userEmbedding.table.data).toEqual(b.userEmbedding.table.data);
    expect(a.itemEmbedding.table.data).toEqual(b.itemEmbedding.table.data);
  });

  test('learning-rate multipliers by pattern; a zero multiplier keeps the table', async () => {
    const model = new MatrixFactorization({ users: 80, items: 40, dim: 8 });
    const users = model.userEmbedding.table.data.slice();
    await runSchedule(model, [{ data: train, lrMultipliers: { 'user.*': 0 } }], fit);
    expect(model.userEmbedding.table.data).toEqual(users);
  });

  test('unknown patterns and bad phases fail before any training', async () => {
    const model = new MatrixFactorization({ users: 80, items: 40, dim: 8 });
    const before = model.itemEmbedding.table.data.slice();
    const rejects = async (phases: unknown[]) => {
      try {
        await runSchedule(model, phases as never, fit);
      } catch (err) {
        return { code: (err as { code?: string }).code, message: (err as Error).message };
      }
      return null;
    };
    expect(await rejects([{ data: train }, { data: train, train: ['tower.*'] }])).toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringContaining('phases[1].train[0]'),
    });
    expect(model.itemEmbedding.table.data).toEqual(before);
    expect(await rejects([{ data: train, lossWeight: 0 }])).toMatchObject({ message: expect.stringContaining('phases[0].lossWeight') });
    expect(await rejects([{ data: [] }])).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejects([{ data: train, freezeRows: { 'user.bias': [0] } }])).toMatchObject({
      message: expect.stringContaining('freezeRows'),
    });
    // A bad row in phase 2 fails before phase 1 trains.
    expect(await rejects([{ data: train }, { data: train, freezeRows: { 'item.embedding': [999] } }])).toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringContaining('phases[1].freezeRows'),
    });
    expect(model.itemEmbedding.table.data).toEqual(before);
    expect(await rejects([])).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});
