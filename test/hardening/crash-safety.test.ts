// Crash safety of saveModel, measured: 100 trials, each a child process that overwrites the model
// file and is killed with SIGKILL at a uniformly random moment of its save (the window comes from
// timing uncrashed saves first). After every kill the file must load and hold either the previous
// complete model or the new one. test/io/atomic-save.test.ts kills at each named stage; this one
// samples the whole save, so kills also land inside writes, fsyncs and the rename.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadModel } from '../../lib';

const TRIALS = Number(process.env.RECBRIDGE_CRASH_TRIALS ?? 100);
const ROWS = 8_000; // 2 × 8k × 16 floats ≈ 1 MB: a save takes milliseconds and several write calls
const child = path.join(__dirname, 'fixtures', 'save-once.js');
const dist = path.resolve(__dirname, '../../dist');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-crash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  signal: string | null;
  code: number | null;
  saveMs: number | null;
  stderr: string;
}

/** Runs the child; with killAtMs, SIGKILLs it that long after it starts its save. */
function trial(file: string, value: number, killAtMs?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dist, file, String(value), String(ROWS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d: Buffer) => {
      const before = out;
      out += d.toString();
      if (killAtMs !== undefined && !before.includes('ready') && out.includes('ready')) {
        if (killAtMs <= 0) p.kill('SIGKILL');
        else setTimeout(() => p.kill('SIGKILL'), killAtMs);
      }
    });
    p.on('error', reject);
    p.on('close', (code, signal) => {
      const m = /saved ([\d.]+)/.exec(out);
      resolve({ code, signal, saveMs: m ? Number(m[1]) : null, stderr });
    });
  });
}

async function storedValue(file: string): Promise<number> {
  const { model } = await loadModel(file);
  const values = new Set<number>();
  for (const p of model.parameters()) for (let i = 0; i < p.table.data.length; i += 997) values.add(p.table.data[i]);
  expect(values.size).toBe(1);
  return [...values][0];
}

test(`${TRIALS} saves killed at random moments leave the previous or the new complete model`, async () => {
  const file = path.join(dir, 'model.safetensors');
  // Uncrashed saves: the first creates the file, the others time the save window.
  const timings: number[] = [];
  for (let v = 1; v <= 3; v++) {
    const r = await trial(file, v);
    expect(r).toMatchObject({ code: 0, signal: null });
    timings.push(r.saveMs!);
  }
  expect(await storedValue(file)).toBe(3);
  const window = [...timings].sort((a, b) => a - b)[1] * 1.1 + 1; // the median save, plus a little

  let previous = 3;
  const tally = { old: 0, new: 0, finished: 0 };
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let t = 0; t < TRIALS; t++) {
    const value = 4 + t;
    const r = await trial(file, value, random() * window);
    if (r.signal !== 'SIGKILL') {
      expect(r).toMatchObject({ code: 0 }); // finished before the kill: then the new file is in place
      tally.finished++;
    }
    const stored = await storedValue(file);
    expect([previous, value]).toContain(stored);
    if (stored === value) tally.new++;
    else tally.old++;
    previous = stored;
  }
  // Both outcomes happen: the kills really do land inside the save.
  expect(tally.old).toBeGreaterThan(0);
  expect(tally.new).toBeGreaterThan(0);
  // A killed save leaves at most its own temporary file; a later save still works.
  const strays = fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  const r = await trial(file, 999);
  expect(r.code).toBe(0);
  expect(await storedValue(file)).toBe(999);
  // That save removed every temporary file the killed ones left.
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  console.log(
    `crash safety: ${TRIALS} trials over a ${window.toFixed(1)} ms window: old kept ${tally.old}, new written ${tally.new} (${tally.finished} saves finished before the kill), ${strays.length} stray temporary files`,
  );
}, 300_000);
