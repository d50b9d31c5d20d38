import { Domain, Interactions, MatrixFactorization, Vocabulary, alignDomains, runSchedule } from '../../lib';
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
