import { MatrixFactorization, TwoTower, copyParameters } from '../../lib';
import { failure } from '../support/errors';

const tower = (users: number, items: number, seed: number) =>
  new TwoTower({ users, items, dim: 8, seed, user: { idEmbedding: true, mlp: [16, 8] }, item: { idEmbedding: true, mlp: [16, 8] } });

describe('copyParameters', () => {
  test('copies a whole item tower and aligned user rows bit-exactly, leaving the rest alone', () => {
    const source = tower(30, 20, 1);
    const target = tower(25, 20, 2);
    const untouched = target.parameter('user.mlp.0.weight').table.data.slice();
    const userRows = target.parameter('user.embedding').table.data.slice();
    const copied = copyParameters(source, target, {
      include: ['item.*', 'user.embedding'],
      rows: { 'user.embedding': { source: Int32Array.from([3, 7]), target: Int32Array.from([0, 24]) } },
    });
    expect(copied.map((c) => c.name).sort()).toEqual(
      ['item.embedding', 'item.mlp.0.bias', 'item.mlp.0.weight', 'item.mlp.1.bias', 'item.mlp.1.weight', 'user.embedding'].sort(),
    );
    for (const name of ['item.embedding', 'item.mlp.0.weight', 'item.mlp.1.bias']) {
      expect(target.parameter(name).table.data).toEqual(source.parameter(name).table.data);
    }
    const su = source.parameter('user.embedding').table.data;
    const tu = target.parameter('user.embedding').table.data;
    expect(tu.subarray(0, 8)).toEqual(su.subarray(24, 32));
    expect(tu.subarray(24 * 8)).toEqual(su.subarray(56, 64));
    expect(tu.subarray(8, 24 * 8)).toEqual(userRows.subarray(8, 24 * 8));
    expect(target.parameter('user.mlp.0.weight').table.data).toEqual(untouched);
  });

  test('mismatched shapes and unknown patterns fail before anything is written', () => {
    const source = tower(30, 20, 1);
    const target = tower(25, 20, 2);
    const before = target.parameter('item.embedding').table.data.slice();
    expect(failure(() => copyParameters(source, target, { include: ['item.*', 'user.embedding'] }))).toMatch(
      /ERR_DIMENSION_MISMATCH.*user\.embedding/,
    );
    expect(target.parameter('item.embedding').table.data).toEqual(before);
    expect(failure(() => copyParameters(source, target, { include: ['tower.*'] }))).toMatch(/ERR_OUT_OF_RANGE.*options\.include\[0\]/);
    const narrow = new MatrixFactorization({ users: 30, items: 20, dim: 4 });
    const wide = new MatrixFactorization({ users: 30, items: 20, dim: 8 });
    expect(failure(() => copyParameters(narrow, wide))).toMatch(/ERR_DIMENSION_MISMATCH/);
    expect(
      failure(() =>
        copyParameters(source, target, {
          include: ['user.embedding'],
          rows: { 'user.embedding': { source: Int32Array.from([30]), target: Int32Array.from([0]) } },
        }),
      ),
    ).toMatch(/options\.rows/);
  });

  test('optimizer state comes along on request', () => {
    const a = new MatrixFactorization({ users: 5, items: 4, dim: 2 });
    const b = new MatrixFactorization({ users: 5, items: 4, dim: 2 });
    a.itemEmbedding.optimizerState('adagrad').fill(3);
    copyParameters(a, b, { include: ['item.*'], optimizerState: true });
    expect(Array.from(b.itemEmbedding.state!.values)).toEqual(new Array(8).fill(3));
  });
});
