/**
 * `recbridge train --kind als` as a user runs it: a model file that evaluate --model scores, the
 * ALS flags in the run's JSON report, reproducible bits whatever --threads says, and flags that
 * belong to another kind refused by name. Runs the built CLI (dist/).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { uniformGenerator } from '../../lib/core/random';
import { loadModel } from '../../lib/io/model-file/load';
import type { MatrixFactorization } from '../../lib/models/matrix-factorization';

const BIN = path.join(__dirname, '..', '..', 'bin', 'recbridge.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-als-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const COLUMNS = ['--user-col', 'userId', '--item-col', 'movieId'];

beforeAll(() => {
  // 120 users in two taste groups over 40 movies; every fifth row held out.
  const rand = uniformGenerator(5);
  const rows: string[] = [];
  for (let u = 1; u <= 120; u++) {
    const picked = new Set<number>();
    while (picked.size < 10) picked.add((u % 2) * 20 + Math.floor(rand() * 20));
    for (const m of picked) rows.push(`${u},m${m}`);
  }
  const header = 'userId,movieId';
  fs.writeFileSync(path.join(dir, 'kept.csv'), `${[header, ...rows.filter((_, i) => i % 5 !== 0)].join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'held.csv'), `${[header, ...rows.filter((_, i) => i % 5 === 0)].join('\n')}\n`);
});

test('train --kind als writes a model that evaluate --model scores, the same bits with any --threads', async () => {
  const train = (out: string, threads: string) =>
    cli([
      'train',
      '--kind',
      'als',
      '--data',
      'kept.csv',
      ...COLUMNS,
      '--dim',
      '8',
      '--epochs',
      '4',
      '--alpha',
      '5',
      '--l2',
      '0.5',
      '--cg-steps',
      '2',
      '--solver',
      'cg',
      '--threads',
      threads,
      '--out',
      out,
      '--json',
      `${out}.json`,
      '--quiet',
    ]);
  const one = train('one.safetensors', '1');
  expect(one.err).toBe('');
  expect(one.code).toBe(0);
  expect(one.out).toContain('saved als model');
  expect(train('two.safetensors', '2').code).toBe(0);
  const [a, b] = await Promise.all(['one', 'two'].map((f) => loadModel(path.join(dir, `${f}.safetensors`))));
  expect(a!.kind).toBe('matrix-factorization');
  for (const table of ['userEmbedding', 'itemEmbedding'] as const) {
    const [x, y] = [a!.model as MatrixFactorization, b!.model as MatrixFactorization].map((m) =>
      Buffer.from(m[table].table.data.slice().buffer),
    );
    expect(x!.equals(y!)).toBe(true);
  }
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'one.safetensors.json'), 'utf8')) as { report: { epochs: { loss: number }[] } };
  expect(report.report.epochs).toHaveLength(4);
  const r = cli([
    'evaluate',
    '--model',
    'one.safetensors',
    '--test',
    'held.csv',
    '--train',
    'kept.csv',
    ...COLUMNS,
    '--k',
    '5',
    '--json',
    '-',
    '--quiet',
  ]);
  expect(r.code).toBe(0);
  const json = JSON.parse(r.out) as { models: Record<string, { runs: { all: { users: number } }[] }> };
  expect(Object.values(json.models)[0]!.runs[0]!.all.users).toBeGreaterThan(0);
});

test('flags of another kind are refused by name', () => {
  expect(cli(['train', '--kind', 'als', '--data', 'kept.csv', '--loss', 'bpr', '--out', 'x']).err).toContain(
    '--loss applies to --kind mf, not als',
  );
  expect(cli(['train', '--kind', 'als', '--data', 'kept.csv', '--lr', '0.1', '--out', 'x']).err).toContain(
    '--lr applies to --kind mf or two-tower, not als',
  );
  expect(cli(['train', '--data', 'kept.csv', '--alpha', '3', '--out', 'x']).err).toContain('--alpha applies to --kind als, not mf');
  expect(cli(['train', '--kind', 'als', '--data', 'kept.csv', ...COLUMNS, '--solver', 'lu', '--out', 'x']).err).toContain('--solver');
});
