// The one atomic writer: concurrent saves to one path never mix, long names work, dead processes'
// temporary files are cleaned, and a symlink keeps pointing at the replaced file.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { removeStaleTemps, tempStem, writeFileAtomic } from '../../lib/core/atomic-write';
import { Interactions } from '../../lib/data/interactions';
import { loadInteractions } from '../../lib/data/load-interactions';
import { saveInteractions } from '../../lib/data/save-interactions';
import { Vocabulary } from '../../lib/data/vocabulary';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-atomic-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function data(rows: number, tag: string) {
  const users = Int32Array.from({ length: rows }, (_, i) => i % 50);
  const items = Int32Array.from({ length: rows }, (_, i) => (i * 7) % 40);
  const interactions = new Interactions({ users, items, numUsers: 50, numItems: 40 });
  const vocab = (n: number, p: string) => new Vocabulary(Array.from({ length: n }, (_, i) => `${tag}${p}${i}`));
  return { interactions, users: vocab(50, 'u'), items: vocab(40, 'i') };
}

test('concurrent saveInteractions to one path leave exactly one complete write', async () => {
  const file = path.join(dir, 'race.tsv');
  for (let trial = 0; trial < 10; trial++) {
    const writes = ['a', 'b', 'c', 'd'].map((tag) => data(20_000, tag));
    await Promise.all(writes.map((w) => saveInteractions(file, w.interactions, { users: w.users, items: w.items })));
    const text = fs.readFileSync(file, 'utf8');
    const tags = new Set(
      text
        .split('\n')
        .slice(1, -1)
        .map((line) => line[0]),
    );
    expect(tags.size).toBe(1);
    const loaded = await loadInteractions(file, { header: true });
    expect(loaded.interactions.size).toBe(20_000);
  }
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('a valid 250-byte file name saves (the temporary name is shortened)', async () => {
  const name = `${'x'.repeat(246)}.tsv`;
  expect(Buffer.byteLength(name)).toBe(250);
  const file = path.join(dir, name);
  const w = data(10, 'z');
  await saveInteractions(file, w.interactions, { users: w.users, items: w.items });
  expect((await loadInteractions(file, { header: true })).interactions.size).toBe(10);
  expect(Buffer.byteLength(tempStem(file))).toBeLessThanOrEqual(120);
  expect(tempStem(path.join(dir, `${'y'.repeat(246)}.tsv`))).not.toBe(tempStem(file));
});

test("temporary files of a dead process are removed by the next save; a live process's are kept", async () => {
  const file = path.join(dir, 'stale.bin');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  const stale = path.join(dir, `.stale.bin.${deadPid}.00ff00ff.tmp`);
  const mine = path.join(dir, `.stale.bin.${process.pid}.0a0a0a0a.tmp`);
  const unrelated = path.join(dir, `.stale.binary.${deadPid}.00ff00ff.tmp`);
  for (const f of [stale, mine, unrelated]) fs.writeFileSync(f, 'partial');
  await writeFileAtomic(file, (sink) => sink.write(Buffer.from('done')));
  expect(fs.readFileSync(file, 'utf8')).toBe('done');
  expect(fs.existsSync(stale)).toBe(false);
  expect(fs.existsSync(mine)).toBe(true);
  expect(fs.existsSync(unrelated)).toBe(true);
  expect(await removeStaleTemps(file)).toBe(0);
});

test('saving through a symlink replaces the file it points to and keeps the link', async () => {
  const real = path.join(dir, 'real.bin');
  const link = path.join(dir, 'link.bin');
  fs.writeFileSync(real, 'old');
  fs.symlinkSync(real, link);
  await writeFileAtomic(link, (sink) => sink.write(Buffer.from('new')));
  expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  expect(fs.readFileSync(real, 'utf8')).toBe('new');
});

test('a failing body leaves the old file and no temporary file', async () => {
  const file = path.join(dir, 'keep.bin');
  fs.writeFileSync(file, 'old');
  await expect(
    writeFileAtomic(file, async (sink) => {
      await sink.write(Buffer.from('half'));
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(fs.readFileSync(file, 'utf8')).toBe('old');
  expect(fs.readdirSync(dir).filter((f) => f.startsWith('.keep.bin.'))).toEqual([]);
});
