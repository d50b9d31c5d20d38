import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { main } from '../../lib/commands/cli';
import {
  Domain,
  Interactions,
  type UserVectorsModel,
  Vocabulary,
  TransferContext,
  alignDomains,
  coldUserSplit,
  fineTune,
  formatLiftTable,
  syntheticDomains,
  transfer,
  renderLiftReport,
} from '../../lib';

const small = () => syntheticDomains({ users: 300, sourceItems: 120, targetItems: 100, sourcePerUser: 20, targetPerUser: 10, seed: 2 });
const settings = { dim: 16, epochs: 40, threads: 1 };

describe('cold-user split', () => {
  test('cold users have no training rows, the parts are disjoint and complete, and the split is seeded', () => {
    const { source, target } = small();
    const alignment = alignDomains(source, target);
    const a = coldUserSplit(alignment, { seed: 3 });
    const b = coldUserSplit(alignment, { seed: 3 });
    const c = coldUserSplit(alignment, { seed: 4 });
    expect(Array.from(a.coldTestUsers)).toEqual(Array.from(b.coldTestUsers));
    expect(Array.from(a.coldTestUsers)).not.toEqual(Array.from(c.coldTestUsers));
    for (const u of a.train.users) expect(a.isCold[u]).toBe(0);
    expect(a.train.size + a.validation.size + a.test.size).toBe(target.interactions.size);
    const key = (d: Interactions) => Array.from(d.users, (u, i) => `${u}:${d.items[i]}`);
    const all = [...key(a.train), ...key(a.validation), ...key(a.test)].sort();
    expect(all).toEqual(key(target.interactions).sort());
    // Cold-validation users' rows are all in validation, cold-test users' all in test.
    const rowsOf = (d: Interactions, users: Int32Array) => d.users.filter((u) => users.includes(u)).length;
    const targetRows = (users: Int32Array) => rowsOf(target.interactions, users);
    expect(rowsOf(a.validation, a.coldValidationUsers)).toBe(targetRows(a.coldValidationUsers));
    expect(rowsOf(a.test, a.coldTestUsers)).toBe(targetRows(a.coldTestUsers));
    expect(rowsOf(a.test, a.coldValidationUsers) + rowsOf(a.validation, a.coldTestUsers)).toBe(0);
    const cold = a.coldTestUsers.length + a.coldValidationUsers.length;
    expect(cold).toBe(Math.round(alignment.users.source.length * 0.2));
    // Few-shot: the revealed rows of cold users train.
    const shots = coldUserSplit(alignment, { seed: 3, coldShots: 1 });
    const trainUsers = new Set(shots.train.users);
    for (const u of shots.coldTestUsers) expect(trainUsers.has(u)).toBe(true);
  });
});

describe('fine-tune', () => {
  test('aligned rows are copied bit-exactly and stay frozen when the user multiplier is 0', async () => {
    const { source, target } = small();
    const alignment = alignDomains(source, target);
    const split = coldUserSplit(alignment, { seed: 1 });
    const ctx = new TransferContext(
      alignment,
      split,
      {
        dim: 16,
        epochs: 5,
        patience: 2,
        loss: 'bpr',
        negatives: 4,
        optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 },
        metric: 'ndcg',
        k: 10,
        threads: 1,
      },
      1,
    );
    const sourceModel = await ctx.sourceModel();
    const result = await fineTune({ userLrMultiplier: 0 }).run(ctx);
    alignment.users.source.forEach((s, k) => {
      const t = alignment.users.target[k];
      expect((result as UserVectorsModel).userVectors.subarray(t * 16, (t + 1) * 16)).toEqual(
        sourceModel.userEmbedding.table.data.subarray(s * 16, (s + 1) * 16),
      );
    });
  });
});

describe('transfer()', () => {
  test('every strategy runs and is paired with every baseline; with two seeds the report makes no claim', async () => {
    const { source, target } = small();
    const events: string[] = [];
    const report = await transfer(source, target, { seeds: 2, settings, onProgress: (e) => events.push(`${e.seed}:${e.strategy}`) });
    const names = report.results.map((r) => r.strategy);
    expect(names).toEqual([
      'popularity',
      'target-only',
      'neighbours',
      'fine-tune',
      'joint',
      'mapping-linear',
      'mapping-mlp',
      'bridge',
      'als',
      'content',
      'graph',
      'hybrid',
      'ease-cross',
      'ease',
      'towers-shared-items',
      'towers-shared-users',
      'fusion',
    ]);
    expect(events).toHaveLength(2 * names.length);
    const cold = (name: string) => report.results.find((r) => r.strategy === name)!.slices.cold.metrics.ndcg.mean;
    // Without target rows, the target-only model serves cold users popularity.
    expect(cold('target-only')).toBeCloseTo(cold('popularity'), 10);
    expect(report.best!.overPopularity).toBeGreaterThan(0.05);
    for (const r of report.results) {
      expect(r.runs).toHaveLength(2);
      expect(r.slices.cold.users).toBeGreaterThan(0);
      expect(r.slices.warm.users).toBeGreaterThan(0);
    }
    // Paired over the same users: each lift's mean is the gap between the two means of the table.
    const baselines = ['popularity', 'target-only', 'neighbours'] as const;
    for (const r of report.results) {
      expect(Object.keys(r.lift).sort()).toEqual(baselines.filter((b) => b !== r.strategy).sort());
      for (const b of baselines) {
        if (b === r.strategy) continue;
        const base = report.results.find((x) => x.strategy === b)!;
        for (const slice of ['cold', 'warm', 'all'] as const) {
          for (const m of ['recall', 'ndcg', 'hit', 'mrr'] as const) {
            const d = r.lift[b]![slice]![m];
            expect(d.mean).toBeCloseTo(r.slices[slice].metrics[m].mean - base.slices[slice].metrics[m].mean, 6);
            expect(d.low).toBeLessThanOrEqual(d.mean + 1e-12);
            expect(d.high).toBeGreaterThanOrEqual(d.mean - 1e-12);
            expect(d.perSeed).toHaveLength(2);
            expect(d.users).toEqual(r.runs.map((run) => run[slice].users));
            expect(d.verdict).toBe('too few seeds');
          }
        }
      }
    }
    // Without target rows, the target-only model serves cold users popularity: no difference at all.
    const same = report.results.find((r) => r.strategy === 'target-only')!.lift.popularity!.cold!.ndcg;
    expect([same.low, same.high]).toEqual([0, 0]);
    const b = report.best!;
    expect(b.significant).toBe(false);
    expect(b.beatsNeighbours).toBe(false);
    expect(b.vs['target-only']!.mean).toBeCloseTo(b.overTargetOnly, 6);
    expect(b.vs['target-only']!.low).toBeGreaterThan(0); // the interval alone would say "better" …
    expect(b.claim).toMatch(/^No claim: 2 seeds were run.*at least 3 seeds/); // … but two seeds are too few
    expect(report.bootstrap).toEqual({ resamples: 2000, seed: 0, confidence: 0.95, minSeeds: 3 });
    // The JSON carries no typed arrays (per-user data is consumed, not stored).
    const json = JSON.stringify(report);
    expect(json).not.toContain('perUser');
    expect(JSON.parse(json).results[3].lift['target-only'].cold.ndcg.verdict).toBe('too few seeds');

    const table = formatLiftTable(report);
    expect(table).toContain('mapping-linear');
    expect(table).toMatch(/NDCG@10 minus target-only, paired/);
    expect(table).toMatch(/NDCG@10 minus neighbours, paired/);
    expect(table).toMatch(/best on cold users: No claim/);
    expect(table).not.toMatch(/p [<=] [\d.]+ (better|worse)|more than 2 std/);
    const html = renderLiftReport(report);
    // The page leads with the lift: its first section holds the two interval charts.
    const sections = html.split('<section>').slice(1);
    expect(sections[0]).toMatch(/^<h2>Lift over the baselines<\/h2>\s*<p>No claim: 2 seeds/);
    expect(sections[0]!.match(/<path class="interval"/g)!.length).toBeGreaterThan(20);
    expect(sections[0]).toContain('NDCG@10 minus target-only');
    expect(sections[0]).toContain('NDCG@10 minus neighbours');
    expect(sections[1]).toContain('<caption>minus target-only</caption>');
    expect(html).toContain('Cold users');
    // A report read back from its JSON renders the same; one saved before paired statistics makes no claim.
    expect(renderLiftReport(JSON.parse(json))).toBe(html);
    const old = JSON.parse(json);
    delete old.bootstrap;
    delete old.best.claim;
    delete old.best.vs;
    old.best.significant = true; // what "more than 2 std" said
    for (const r of old.results) delete r.lift;
    expect(formatLiftTable(old)).toMatch(
      new RegExp(`best on cold users: ${report.best!.strategy} has the best mean .*No claim: this report has no paired statistics`),
    );
    const oldHtml = renderLiftReport(old);
    expect(oldHtml).toContain('No claim: this report has no paired statistics');
    expect(oldHtml).not.toContain('class="interval"');
    // Every strategy in every bar chart's legend.
    for (const chart of html.match(/<svg[\s\S]*?<\/svg>/g)!.filter((svg) => svg.includes('class="bar"'))) {
      expect(chart.match(/<g class="legend">/g)).toHaveLength(names.length);
    }
  }, 120_000);

  test('with three seeds the report calls the best strategy better when its paired interval excludes 0', async () => {
    const { source, target } = small();
    const report = await transfer(source, target, { seeds: 3, strategies: ['fine-tune'], settings });
    const b = report.best!;
    expect(b.strategy).toBe('fine-tune');
    expect(b.vs.popularity!.verdict).toBe('better');
    expect(b.vs['target-only']!.verdict).toBe('better');
    expect(b.significant).toBe(true);
    expect(b.claim).toMatch(
      /^fine-tune \(best mean cold-user NDCG@10\) is better than popularity \(\+0\.\d{4} \[\+0\.\d{4}, \+0\.\d{4}\], p /,
    );
    expect(b.vs.neighbours!.perSeed).toHaveLength(3);
    expect(b.beatsNeighbours).toBe(b.vs.neighbours!.verdict === 'better');
    // A verdict follows its interval.
    for (const r of report.results)
      for (const lift of Object.values(r.lift))
        for (const slice of Object.values(lift!))
          for (const d of Object.values(slice!))
            expect(d.verdict).toBe(d.low > 0 ? 'better' : d.high < 0 ? 'worse' : 'no clear difference');
    expect(formatLiftTable(report)).toMatch(/fine-tune +\+0\.\d{4} \[\+0\.\d{4}, \+0\.\d{4}\], p [<=] [\d.]+ better/);
    expect(renderLiftReport(report)).not.toContain('No claim');
  }, 120_000);

  test('few-shot cold users are served by each strategy, not by their shot-only vectors', async () => {
    const { source, target } = small();
    const report = await transfer(source, target, {
      seeds: 1,
      coldShots: 2,
      strategies: ['mapping-linear', 'bridge', 'content'],
      settings,
    });
    const cold = (name: string) => report.results.find((r) => r.strategy === name)!.slices.cold.metrics.ndcg.mean;
    const values = ['target-only', 'mapping-linear', 'bridge', 'content'].map(cold);
    expect(new Set(values.map((v) => v.toFixed(6))).size).toBe(4);
    // Popularity no longer equals target-only: the shots give target-only something to go on.
    expect(cold('target-only')).not.toBeCloseTo(cold('popularity'), 6);
    // Cold users still have test rows: the shots came out of their rows, the rest is evaluated.
    expect(report.results[0].slices.cold.users).toBeGreaterThan(0);
  }, 120_000);

  test('metrics of cold and warm users merged by a neighbourhood model are consistent', async () => {
    const { source, target } = small();
    const report = await transfer(source, target, { seeds: 1, strategies: ['fine-tune', 'hybrid'], settings });
    for (const name of ['neighbours', 'hybrid', 'fine-tune']) {
      const run = report.results.find((r) => r.strategy === name)!.runs[0];
      const { cold, warm, all } = run;
      expect(all.users).toBe(cold.users + warm.users);
      expect(all.ndcg).toBeCloseTo((cold.ndcg * cold.users + warm.ndcg * warm.users) / all.users, 6);
      expect(all.byK[10].ndcg).toBeCloseTo(all.ndcg, 10);
      expect(all.skipped).toBe(report.results.find((r) => r.strategy === 'fine-tune')!.runs[0].all.skipped);
    }
    // Their per-user metrics, merged from the cold and warm parts, pair with fine-tune's users one to one.
    const hybrid = report.results.find((r) => r.strategy === 'hybrid')!;
    for (const slice of ['cold', 'warm', 'all'] as const) {
      for (const base of ['neighbours', 'target-only'] as const) {
        const other = report.results.find((r) => r.strategy === base)!;
        expect(hybrid.lift[base]![slice]!.ndcg.mean).toBeCloseTo(hybrid.runs[0][slice].ndcg - other.runs[0][slice].ndcg, 6);
      }
    }
  }, 120_000);

  test('the sampled protocol is reported per slice, for embedding and neighbourhood strategies alike', async () => {
    const { source, target } = small();
    const report = await transfer(source, target, {
      seeds: 1,
      strategies: ['mapping-linear'],
      settings,
      sampled: { negatives: 30, seed: 5 },
    });
    expect(report.sampledNegatives).toBe(30);
    for (const r of report.results) {
      for (const slice of ['cold', 'warm', 'all'] as const) {
        const m = r.sampled![slice];
        expect(m.ndcg.mean).toBeGreaterThan(0);
        expect(r.sampledRuns![0][slice]!.negatives).toBe(30);
      }
    }
    // Popularity ranks the same way under both protocols' masks: cold users beat chance (1/31 per item).
    expect(report.results[0].sampled!.cold.hit.mean).toBeGreaterThan(10 / 31);
    expect(formatLiftTable(report)).toContain('sampled protocol');
    // The HTML shows the sampled protocol too.
    const html = renderLiftReport(report);
    expect(html).toContain('<h2>Sampled protocol (30 negatives per test item)</h2>');
    expect(html).toContain('Sampled NDCG@10 by slice');
    const cell = report.results[0].sampled!.cold.hit;
    expect(html).toContain(`${cell.mean.toFixed(4)} ± ${cell.std.toFixed(4)}`);
  }, 60_000);

  test('bad inputs are typed errors naming the argument', async () => {
    const { source, target } = small();
    const reject = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return `${(err as { code?: string }).code} ${(err as Error).message}`;
      }
      return 'no error';
    };
    expect(await reject(transfer(source, target, { strategies: ['magic'] }))).toMatch(/ERR_OUT_OF_RANGE.*options\.strategies\[0\]/);
    expect(await reject(transfer(source, target, { seeds: 0 }))).toMatch(/options\.seeds/);
    expect(await reject(transfer(source, target, { settings: { dim: 0 } }))).toMatch(/options\.settings\.dim/);
    expect(await reject(transfer(source, target, { coldFraction: 1.5 }))).toMatch(/coldFraction/);
    expect(await reject(transfer(source, target, { bootstrap: { resamples: 5 } }))).toMatch(
      /ERR_OUT_OF_RANGE.*options\.bootstrap\.resamples/,
    );
    expect(await reject(transfer(source, target, { bootstrap: { confidence: 0.9 } as never }))).toMatch(/options\.bootstrap\.confidence/);
    expect(await reject(transfer(source, target, { bootstrap: 3 as never }))).toMatch(/ERR_INVALID_ARG_TYPE.*options\.bootstrap/);
    const stranger = new Domain({ name: 'x', interactions: Interactions.fromPairs([[0, 0]]), users: new Vocabulary(['nobody']) });
    const renamed = new Domain({ name: 'y', interactions: target.interactions });
    expect(await reject(transfer(stranger, renamed))).toMatch(/ERR_NO_OVERLAP/);
    expect(await reject(transfer(source, {} as never))).toMatch(/ERR_INVALID_ARG_TYPE.*target/);
  });
});

describe('recbridge transfer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-transfer-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function capture(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      return { code: await main(argv), out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
      write.mockRestore();
    }
  }

  test('runs on two files with shared user ids and writes JSON and HTML', async () => {
    const { source, target } = small();
    const write = (file: string, d: Domain) =>
      fs.writeFileSync(
        file,
        `${Array.from(d.interactions.users, (u, i) => `${d.users.id(u)}\t${d.items.id(d.interactions.items[i])}`).join('\n')}\n`,
      );
    write(path.join(dir, 'source.tsv'), source);
    write(path.join(dir, 'target.tsv'), target);
    const json = path.join(dir, 'lift.json');
    const html = path.join(dir, 'lift.html');
    const r = await capture([
      'transfer',
      '--source',
      path.join(dir, 'source.tsv'),
      '--target',
      path.join(dir, 'target.tsv'),
      '--strategies',
      'mapping-linear,fine-tune',
      '--seeds',
      '1',
      '--dim',
      '8',
      '--epochs',
      '20',
      '--sampled',
      '20',
      '--threads',
      '1',
      '--json',
      json,
      '--report',
      html,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('mapping-linear');
    const saved = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(saved.results.map((x: { strategy: string }) => x.strategy)).toEqual([
      'popularity',
      'target-only',
      'neighbours',
      'mapping-linear',
      'fine-tune',
    ]);
    expect(saved.alignment.sharedUsers).toBe(240);
    expect(saved.sampledNegatives).toBe(20);
    expect(saved.settings.threads).toBe(1);
    expect(fs.readFileSync(html, 'utf8')).toContain('<svg');
  }, 60_000);

  test('bad flags exit 2 with a message', async () => {
    for (const argv of [
      ['transfer'],
      ['transfer', '--demo', '--strategies', 'magic'],
      ['transfer', '--demo', '--seeds', 'x'],
      ['transfer', '--demo', '--source', 'a'],
    ]) {
      const r = await capture(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/recbridge transfer: /);
    }
  });
});
