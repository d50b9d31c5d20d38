/**
 * `recbridge evaluate`: trains the chosen models on the same splits and seeds, evaluates them
 * together (full ranking with seen items masked, several cut-offs, activity slices, optionally the
 * sampled protocol), prints mean ± std, and writes JSON and an HTML report.
 */
import * as fs from 'node:fs';

import { leaveOneOut } from '../data/leave-one-out';
import { splitByUser } from '../data/split';
import { loadInteractions, type LoadInteractionsOptions } from '../data/load-interactions';
import { Vocabulary } from '../data/vocabulary';
import { PopularityModel, RandomModel } from '../eval/baselines';
import { evaluateSlices, type RankingModel } from '../eval/ranking';
import { evaluateSampled } from '../eval/sampled';
import { activityBuckets } from '../eval/slices';
import { summarize } from '../eval/summarize';
import { MatrixFactorization } from '../models/matrix-factorization';
import { Interactions } from '../data/interactions';
import { Trainer, type FitReport } from '../train/trainer';
import { UsageError, boolFlag, intFlag, listFlag, noMoreArgs, stringFlag, type Command } from './args';
import { evaluationReport, printTable } from './evaluate-output';
import type { EvaluateResult, ModelRun } from './evaluate-result';

export type { EvaluateResult, ModelRun } from './evaluate-result';

export const MODEL_NAMES = ['pop', 'random', 'bpr'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface EvaluateSettings {
  data?: string;
  format?: LoadInteractionsOptions['format'];
  split?: number[];
  loo: boolean;
  train?: string;
  test?: string;
  validation?: string;
  models: ModelName[];
  seeds: number;
  ks: number[];
  epochs?: number;
  dim: number;
  negatives?: number;
  buckets?: number[];
  threads?: number;
  json?: string;
  report?: string;
  log?: string;
}

const USAGE = `  evaluate --data FILE [--format F] [--split 0.8,0.1,0.1 | --loo | --train F --test F [--validation F]]
           [--models pop,random,bpr] [--seeds 3] [--k 5,10,20] [--epochs N] [--dim D] [--negatives 999]
           [--buckets 5,20] [--threads T] [--json out.json] [--report out.html] [--log training-log.json]
                                                     train and compare models on the same splits`;

const FORMATS = ['recbole', 'tsv', 'csv', 'whitespace'];

export function parseEvaluateArgs(args: string[]): EvaluateSettings {
  const format = stringFlag(args, 'format');
  if (format !== undefined && !FORMATS.includes(format))
    throw new UsageError(`Expected one of ${FORMATS.join(', ')} for --format but received ${JSON.stringify(format)}`);
  const splitList = listFlag(args, 'split');
  const split = splitList?.map((s) => {
    const r = Number(s);
    if (!(r > 0 && r < 1))
      throw new UsageError(`Expected ratios in (0, 1) for --split but received ${JSON.stringify(splitList.join(','))}`);
    return r;
  });
  if (split && (split.length < 2 || split.length > 3 || Math.abs(split.reduce((a, b) => a + b, 0) - 1) > 1e-6)) {
    throw new UsageError(
      `Expected two or three ratios summing to 1 (train,test or train,validation,test) for --split but received ${JSON.stringify(splitList!.join(','))}`,
    );
  }
  const modelList = listFlag(args, 'models') ?? ['pop', 'random', 'bpr'];
  const models = modelList.map((m) => (m === 'popularity' ? 'pop' : m));
  for (const m of models)
    if (!(MODEL_NAMES as readonly string[]).includes(m))
      throw new UsageError(`Expected models among ${MODEL_NAMES.join(', ')} for --models but received ${JSON.stringify(m)}`);
  if (models.length === 0) throw new UsageError('Expected at least one model for --models');
  const ints = (name: string, min: number, max: number) =>
    listFlag(args, name)?.map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new UsageError(`Expected comma-separated integers in [${min}, ${max}] for --${name} but received ${JSON.stringify(s)}`);
      return n;
    });
  const settings: EvaluateSettings = {
    data: stringFlag(args, 'data'),
    format: format as EvaluateSettings['format'],
    split,
    loo: boolFlag(args, 'loo'),
    train: stringFlag(args, 'train'),
    test: stringFlag(args, 'test'),
    validation: stringFlag(args, 'validation'),
    models: [...new Set(models)] as ModelName[],
    seeds: intFlag(args, 'seeds', 1, 100) ?? 3,
    ks: [...new Set(ints('k', 1, 100_000) ?? [5, 10, 20])].sort((a, b) => a - b),
    epochs: intFlag(args, 'epochs', 1, 100_000),
    dim: intFlag(args, 'dim', 1, 4096) ?? 64,
    negatives: intFlag(args, 'negatives', 1, 1_000_000),
    buckets: ints('buckets', 0, 2 ** 31 - 1),
    threads: intFlag(args, 'threads', 1, 256),
    json: stringFlag(args, 'json'),
    report: stringFlag(args, 'report'),
    log: stringFlag(args, 'log'),
  };
  noMoreArgs(args);
  const files = settings.train !== undefined || settings.test !== undefined;
  if (files && (settings.train === undefined || settings.test === undefined)) throw new UsageError('Expected both --train and --test');
  if (settings.validation !== undefined && !files) throw new UsageError('--validation goes with --train and --test');
  const modes = [settings.split !== undefined, settings.loo, files].filter(Boolean).length;
  if (modes > 1) throw new UsageError('Choose one of --split, --loo, or --train/--test');
  if (!files && settings.data === undefined) throw new UsageError('Expected --data FILE (or --train and --test)');
  if (files && settings.data !== undefined) throw new UsageError('--data and --train/--test are alternatives');
  if (!files && !settings.loo && !settings.split) settings.split = [0.8, 0.1, 0.1];
  if (settings.buckets) {
    settings.buckets.sort((a, b) => a - b);
    if (new Set(settings.buckets).size !== settings.buckets.length) throw new UsageError('Expected distinct edges for --buckets');
  }
  return settings;
}

interface SplitSet {
  train: Interactions;
  validation: Interactions | null;
  test: Interactions;
}

async function loadData(s: EvaluateSettings) {
  const opts = s.format ? { format: s.format } : {};
  if (s.data !== undefined) {
    const loaded = await loadInteractions(s.data, opts);
    return { all: loaded.interactions, users: loaded.users, items: loaded.items, files: null };
  }
  const users = new Vocabulary();
  const items = new Vocabulary();
  const train = (await loadInteractions(s.train!, { ...opts, users, items })).interactions;
  const test = (await loadInteractions(s.test!, { ...opts, users, items })).interactions;
  const validation = s.validation !== undefined ? (await loadInteractions(s.validation, { ...opts, users, items })).interactions : null;
  return { all: null, users, items, files: { train, test, validation } };
}

function makeSplits(
  s: EvaluateSettings,
  data: Awaited<ReturnType<typeof loadData>>,
  seed: number,
  numUsers: number,
  numItems: number,
): SplitSet {
  const resize = (x: Interactions) => new Interactions({ users: x.users, items: x.items, numUsers, numItems });
  if (data.files) {
    const f = data.files;
    return { train: resize(f.train), validation: f.validation ? resize(f.validation) : null, test: resize(f.test) };
  }
  if (s.loo) {
    // The last interaction by time when the file has timestamps, else a seeded random one.
    // With validation: true, leaveOneOut returns exactly [train, validation, test].
    const [train, validation, test] = leaveOneOut(data.all!, { by: data.all!.timestamps ? 'time' : 'random', seed, validation: true });
    return { train: train!, validation: validation!, test: test! };
  }
  // One part per ratio, and --split has two or three: [train, test] or [train, validation, test].
  const parts = splitByUser(data.all!, s.split!, seed);
  return { train: parts[0]!, validation: parts.length === 3 ? parts[1]! : null, test: parts[parts.length - 1]! };
}

/** Tertile edges of training activity: three buckets of roughly equal size. */
function defaultEdges(train: Interactions, users: number): number[] {
  const counts = new Int32Array(users);
  for (const u of train.users) counts[u]!++; // u < users: makeSplits gives every split users rows
  const sorted = Array.from(counts).sort((a, b) => a - b);
  // Both indices are below users when users ≥ 1. With no users there is no quantile: NaN edges make
  // activityBuckets reject them, as they always have.
  const at = (i: number) => sorted[i] ?? Number.NaN;
  const edges = [at(Math.floor(users / 3)), at(Math.floor((2 * users) / 3))].map((e) => Math.max(e, 1));
  return [...new Set(edges)];
}

async function buildModel(name: ModelName, s: EvaluateSettings, split: SplitSet, seed: number, users: number, items: number) {
  if (name === 'pop') return { model: PopularityModel.fit(split.train, { users, items }) as RankingModel };
  if (name === 'random') return { model: new RandomModel({ users, items, seed }) as RankingModel };
  const mf = new MatrixFactorization({ users, items, dim: s.dim, seed });
  const started = Date.now();
  // Settings that reproduce RecBole's BPR on MovieLens-100K (bench/accuracy/ml100k-bpr.js).
  const report: FitReport = await Trainer.fit(mf, split.train, {
    loss: 'bpr',
    optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 },
    epochs: s.epochs ?? (split.validation ? 100 : 30),
    seed,
    threads: s.threads,
    validation: split.validation ? { data: split.validation, metric: 'mrr', k: 10, patience: 10, restoreBest: true } : undefined,
  });
  return { model: mf as RankingModel, report, seconds: (Date.now() - started) / 1000 };
}

export async function runEvaluate(
  s: EvaluateSettings,
  log: (line: string) => void = (l) => console.error(l),
): Promise<{ result: EvaluateResult; logs: { model: string; seed: number; report: FitReport }[] }> {
  const data = await loadData(s);
  const users = data.users.size;
  const items = data.items.size;
  const seeds = Array.from({ length: s.seeds }, (_, i) => i);
  const runs: Record<string, ModelRun[]> = {};
  const sliceCounts: Record<string, number[]> = {};
  const logs: { model: string; seed: number; report: FitReport }[] = [];
  for (const seed of seeds) {
    const split = makeSplits(s, data, seed, users, items);
    const seen = split.validation ? Interactions.concat([split.train, split.validation]) : split.train;
    const slices = activityBuckets(split.train, s.buckets ?? defaultEdges(split.train, users), users);
    for (const [name, rows] of Object.entries(slices)) {
      sliceCounts[name] ??= [];
      sliceCounts[name].push(rows.length);
    }
    for (const name of s.models) {
      const built = await buildModel(name, s, split, seed, users, items);
      const evaluated = await evaluateSlices(built.model, split.test, {
        slices,
        ks: s.ks,
        exclude: seen,
        popularity: split.train.itemCounts(),
        threads: s.threads,
      });
      const run: ModelRun = { seed, all: evaluated.all, slices: evaluated.slices };
      if (s.negatives)
        run.sampled = await evaluateSampled(built.model, split.test, { negatives: s.negatives, seed, exclude: seen, ks: s.ks });
      if (built.report) {
        logs.push({ model: name, seed, report: built.report });
        run.training = {
          epochs: built.report.epochs.length,
          bestEpoch: built.report.bestEpoch,
          stoppedEarly: built.report.stoppedEarly,
          seconds: built.seconds!,
        };
      }
      runs[name] ??= [];
      runs[name].push(run);
      // evaluateSlices rejects an empty ks and reports every cut-off in it, so byK has k.
      const k = s.ks.includes(10) ? 10 : s.ks[0]!;
      log(
        `seed ${seed} ${name}: ndcg@${k} ${evaluated.all.byK[k]!.ndcg.toFixed(4)}${run.training ? ` (${run.training.epochs} epochs, best ${run.training.bestEpoch}, ${run.training.seconds.toFixed(1)} s)` : ''}`,
      );
    }
  }
  const protocol = data.files
    ? 'given train/test files'
    : s.loo
      ? `leave-one-out (${data.all!.timestamps ? 'last by time' : 'random'}, one validation item)`
      : `per-user random split ${s.split!.join('/')}`;
  const result: EvaluateResult = {
    dataset: s.data ?? `${s.train} + ${s.test}`,
    protocol: `${protocol}; full ranking over ${items} items with training${s.split?.length === 3 || s.validation || s.loo ? ' and validation' : ''} items masked`,
    users,
    items,
    ks: s.ks,
    seeds,
    slices: sliceCounts,
    models: Object.fromEntries(
      s.models.map((m) => {
        const modelRuns = runs[m] ?? []; // none only with zero seeds, which summarize rejects
        return [m, { runs: modelRuns, summary: summarize(modelRuns.map(({ seed: _seed, ...rest }) => rest)).summary }];
      }),
    ),
  };
  return { result, logs };
}

async function run(args: string[]): Promise<number> {
  const settings = parseEvaluateArgs(args);
  for (const file of [settings.data, settings.train, settings.test, settings.validation]) {
    if (file !== undefined && !fs.existsSync(file)) throw new UsageError(`No such file: ${file}`);
  }
  const { result, logs } = await runEvaluate(settings);
  console.log(printTable(result));
  const strip = (_key: string, value: unknown) => (ArrayBuffer.isView(value) ? undefined : value);
  if (settings.json) fs.writeFileSync(settings.json, JSON.stringify(result, strip, 2));
  if (settings.log) fs.writeFileSync(settings.log, JSON.stringify(logs, strip, 2));
  if (settings.report) fs.writeFileSync(settings.report, evaluationReport(result, logs));
  return 0;
}

export const evaluate: Command = { usage: USAGE, run };
