// A crash at any point of a save leaves the old file or the complete new one. The crash is real: a
// child process saving a model is killed with SIGKILL, either exactly between two steps (through
// the RECBRIDGE_TEST_CRASH_AT hook) or at random moments while it saves in a loop.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MatrixFactorization, loadModel, saveModel } from '../../lib';
import { tempDir } from './helpers';

const dir = tempDir();
const child = path.join(__dirname, 'fixtures', 'save-child.js');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(
  args: string[],
  env: Record<string, string> = {},
  killAfterMs?: number,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    if (killAfterMs !== undefined) {
      p.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) setTimeout(() => p.kill('SIGKILL'), killAfterMs);
      });
    }
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The value every weight holds (the files under test are filled with one constant). */
async function storedValue(file: string): Promise<number> {
  const { model } = await loadModel(file);
  const values = new Set<number>();
  for (const p of model.parameters()) for (const x of p.table.data) values.add(x);
  expect(values.size).toBe(1);
  return [...values][0];
}

async function saveOld(file: string): Promise<void> {
  const m = new MatrixFactorization({ users: 50, items: 50, dim: 16, itemBias: true });
  for (const p of m.parameters()) p.table.data.fill(1);
  await saveModel(file, m);
}

describe('atomic saves under a killed process', () => {
  it.each(['write:1', 'write:2', 'write:3', 'before-fsync', 'before-rename'])(
    'a crash at %s keeps the old file',
    async (stage) => {
      const file = path.join(dir, `crash-${stage.replace(':', '')}.safetensors`);
      await saveOld(file);
      const r = await run([file, '2', '50'], { RECBRIDGE_TEST_CRASH_AT: stage });
      expect(r.signal).toBe('SIGKILL');
      expect(await storedValue(file)).toBe(1);
      // A later save still works, and removes the dead process's temporary file.
      const temps = () => fs.readdirSync(dir).filter((f) => f.startsWith(`.${path.basename(file)}.`) && f.endsWith('.tmp'));
      if (stage !== 'write:1') expect(temps().length).toBeGreaterThan(0);
      await saveOld(file);
      expect(temps()).toEqual([]);
    },
    30_000,
  );

  it('a crash right after the rename leaves the complete new file', async () => {
    const file = path.join(dir, 'crash-after.safetensors');
    await saveOld(file);
    const r = await run([file, '2', '50'], { RECBRIDGE_TEST_CRASH_AT: 'after-rename' });
    expect(r.signal).toBe('SIGKILL');
    expect(await storedValue(file)).toBe(2);
  }, 30_000);

  it('without a crash the child replaces the file', async () => {
    const file = path.join(dir, 'plain.safetensors');
    await saveOld(file);
    const r = await run([file, '3', '50']);
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(await storedValue(file)).toBe(3);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.plain.safetensors.'))).toEqual([]);
  }, 30_000);

  it('killed at random moments while saving in a loop, the file is always complete', async () => {
    const file = path.join(dir, 'loop.safetensors');
    for (const delay of [20, 90, 170]) {
      // 100k rows × 16 × 2 tables ≈ 13 MB per save, so kills land mid-write as well as between saves.
      const r = await run([file, '10', '100000', 'loop'], {}, delay);
      expect(r.signal).toBe('SIGKILL');
      if (fs.existsSync(file)) expect([10, 11]).toContain(await storedValue(file));
    }
    expect(fs.existsSync(file)).toBe(true);
  }, 60_000);
});
