import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { main } from '../../lib/commands/cli';
import { uniformGenerator } from '../../lib/core/random';

// Two communities of users, each preferring its own half of the items: BPR learns it, random does not.
function writeData(file: string): void {
  const rand = uniformGenerator(42);
  const lines: string[] = [];
  for (let u = 0; u < 80; u++) {
    const half = u % 2;
    const picked = new Set<number>();
    const n = 8 + (u % 10);
    while (picked.size < n) picked.add(half * 30 + Math.floor(rand() * 30));
    for (const i of picked) lines.push(`u<${u}> i${i}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('recbridge evaluate', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-evaluate-'));
  const data = path.join(dir, 'pairs.txt');
  beforeAll(() => writeData(data));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('trains, evaluates and writes JSON, an HTML report and the training log', async () => {
    const json = path.join(dir, 'out.json');
    const report = path.join(dir, 'report.html');
    const log = path.join(dir, 'log.json');
    const r = await capture([
      'evaluate',
      '--data',
      data,
      '--seeds',
      '2',
      '--k',
      '5,10',
      '--epochs',
      '15',
      '--dim',
      '8',
      '--negatives',
      '20',
      '--buckets',
      '10,14',
      '--threads',
      '1',
      '--json',
      json,
      '--report',
      report,
      '--log',
      log,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('@10');
    expect(r.out).toMatch(/bpr\s+\d\.\d{4} ± \d\.\d{4}/);
    const result = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(result.ks).toEqual([5, 10]);
    expect(result.seeds).toEqual([0, 1]);
    expect(Object.keys(result.models)).toEqual(['pop', 'random', 'bpr']);
    expect(Object.keys(result.slices)).toEqual(['0-9', '10-13', '14+']);
    const bpr = result.models.bpr;
    expect(bpr.runs).toHaveLength(2);
    expect(bpr.summary.all.byK['10'].ndcg.mean).toBeGreaterThan(result.models.random.summary.all.byK['10'].ndcg.mean);
    expect(bpr.runs[0].all.users + bpr.runs[0].all.skipped).toBe(80); // users with < 10 interactions get no test item
    expect(bpr.runs[0].training.epochs).toBeGreaterThan(0);
    expect(bpr.summary.sampled.byK['5'].hit.mean).toBeGreaterThan(0);
    expect(bpr.runs[0].all.perUser).toBeUndefined();
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Learning curves');
    expect(html).toContain('by training activity');
    expect(html).not.toMatch(/<script|<link /);
    const logs = JSON.parse(fs.readFileSync(log, 'utf8'));
    expect(logs).toHaveLength(2);
    expect(logs[0].report.epochs[0]).toHaveProperty('loss');
  });

  test('given train and test files', async () => {
    const train = path.join(dir, 'train.txt');
    const test = path.join(dir, 'test.txt');
    const lines = fs.readFileSync(data, 'utf8').trim().split('\n');
    fs.writeFileSync(train, lines.filter((_, i) => i % 5 !== 0).join('\n'));
    fs.writeFileSync(test, lines.filter((_, i) => i % 5 === 0).join('\n'));
    const json = path.join(dir, 'files.json');
    const r = await capture(['evaluate', '--train', train, '--test', test, '--models', 'pop,random', '--seeds', '1', '--json', json]);
    expect(r.code).toBe(0);
    const result = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(result.protocol).toContain('given train/test files');
    expect(result.models.pop.summary.all.recall.std).toBe(0);
  });

  test('leave-one-out', async () => {
    const json = path.join(dir, 'loo.json');
    const r = await capture([
      'evaluate',
      '--data',
      data,
      '--loo',
      '--models',
      'pop,bpr',
      '--epochs',
      '3',
      '--dim',
      '4',
      '--seeds',
      '1',
      '--k',
      '10',
      '--json',
      json,
    ]);
    expect(r.code).toBe(0);
    const result = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(result.protocol).toContain('leave-one-out');
    expect(result.models.pop.runs[0].all.users).toBe(80); // one test item per user
  });

  test('bad flags exit 2 with a message', async () => {
    for (const [argv, message] of [
      [['evaluate', '--data', data, '--k', '0'], '--k'],
      [['evaluate', '--data', data, '--models', 'pop,svd'], '--models'],
      [['evaluate', '--data', data, '--split', '0.5,0.2'], '--split'],
      [['evaluate', '--data', data, '--bogus'], 'Unknown flag --bogus'],
      [['evaluate', '--train', data], '--test'],
      [['evaluate', '--data', data, '--loo', '--split', '0.8,0.2'], 'Choose one'],
      [['evaluate', '--data', path.join(dir, 'missing.txt')], 'No such file'],
    ] as const) {
      const r = await capture([...argv]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
    }
  });
});
