// An allocation the process cannot make is ERR_OUT_OF_MEMORY with its size, from every constructor
// that allocates tables — never V8's uncoded RangeError.
import { EmbeddingTable } from '../../lib/core/table';
import { allocateBuffer } from '../../lib/core/shared-memory';
import { MatrixFactorization } from '../../lib/models/matrix-factorization';
import { TwoTower } from '../../lib/models/two-tower';

const huge = 1e9; // × 64 floats = 238 GiB

test.each([
  ['EmbeddingTable.create (shared)', () => EmbeddingTable.create(huge, 64)],
  ['EmbeddingTable.create (not shared)', () => EmbeddingTable.create(huge, 64, { shared: false })],
  ['MatrixFactorization', () => new MatrixFactorization({ users: huge, items: 10, dim: 64 })],
  ['TwoTower', () => new TwoTower({ users: huge, items: 10, dim: 64 })],
  ['allocateBuffer', () => allocateBuffer(2 ** 45, true)],
])('%s', (_name, allocate) => {
  expect(allocate).toThrow(
    expect.objectContaining({
      name: 'RecbridgeError',
      code: 'ERR_OUT_OF_MEMORY',
      message: expect.stringMatching(/Could not allocate \d+\.\d\d GiB/),
    }),
  );
});
