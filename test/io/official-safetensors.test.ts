// A model file read by the official safetensors library (its numpy loader) holds exactly the model's
// tensors: no filler tensors a strict state-dict load would refuse, and the same values. The library
// is optional here: the test looks for a python3 that can import it and skips, saying why, if none can.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MatrixFactorization, saveModel } from '../../lib';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const python = spawnSync('python3', ['-c', 'import safetensors.numpy'], { stdio: 'ignore' }).status === 0 ? 'python3' : null;

const READER = `
import json, sys
from safetensors.numpy import load_file
tensors = load_file(sys.argv[1])
print(json.dumps({name: {'shape': list(t.shape), 'dtype': str(t.dtype), 'values': t.ravel().tolist()} for name, t in tensors.items()}))
`;

const title = 'the official safetensors library reads exactly the model tensors';
(python ? it : it.skip)(python ? title : `${title} (skipped: no python3 here can import safetensors)`, async () => {
  // dim 3 and a bias make sizes that are not multiples of 64 bytes; frozen rows add a U8 tensor and
  // Adagrad state an F32 tensor after it in the caller's order.
  const m = new MatrixFactorization({ users: 5, items: 7, dim: 3, itemBias: true, seed: 3 });
  m.userEmbedding.freezeRows([1, 3]);
  m.itemEmbedding.optimizerState('adagrad').fill(0.5);
  const file = path.join(dir, 'model.safetensors');
  await saveModel(file, m);
  const r = spawnSync(python!, ['-c', READER, file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const read = JSON.parse(r.stdout) as Record<string, { shape: number[]; dtype: string; values: number[] }>;
  expect(Object.keys(read).sort()).toEqual(
    ['frozen.user.embedding', 'item.bias', 'item.embedding', 'optimizer.item.embedding', 'user.embedding'].sort(),
  );
  expect(read['user.embedding'].shape).toEqual([5, 3]);
  expect(read['user.embedding'].values).toEqual(Array.from(m.userEmbedding.table.data));
  expect(read['item.bias'].values).toEqual(Array.from(m.itemBias!.table.data));
  expect(read['frozen.user.embedding'].values).toEqual([0, 1, 0, 1, 0]);
});
