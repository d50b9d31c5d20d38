import * as fs from 'node:fs';
import * as path from 'node:path';

import { Vocabulary, saveModel } from '../../lib';
import { main } from '../../lib/commands/cli';
import { tempDir, towerWithState } from './helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

it('recbridge inspect summarises a model file from its header', async () => {
  const file = path.join(dir, 'tt.safetensors');
  const m = towerWithState();
  await saveModel(file, m, {
    vocabularies: { items: new Vocabulary(Array.from({ length: m.items }, (_, i) => `i${i}`)) },
    provenance: { run: 7 },
  });
  const text = await capture(['inspect', file]);
  expect(text.code).toBe(0);
  expect(text.out).toMatch(/recbridge two-tower model, format 1/);
  expect(text.out).toMatch(/user\.embedding \[25 × 8\] trainable, some rows frozen, rowwise-adagrad state/);
  expect(text.out).toMatch(/item\.features\.embedding \[11 × 8\] frozen/);
  expect(text.out).toMatch(/vocabularies: items 40/);
  expect(text.out).toMatch(/provenance: \{"run":7\}/);
  const json = await capture(['inspect', file, '--json']);
  expect(JSON.parse(json.out)).toMatchObject({ kind: 'two-tower', epochsTrained: 2 });
});

it('reports a damaged file and a missing argument', async () => {
  const file = path.join(dir, 'bad.safetensors');
  fs.writeFileSync(file, Buffer.alloc(4));
  const r = await capture(['inspect', file]);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/^recbridge inspect: \[ERR_CORRUPT_FILE\] .*is corrupt: /);
  expect((await capture(['inspect'])).code).toBe(2);
});
