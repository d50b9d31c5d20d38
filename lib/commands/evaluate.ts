/**
 * `recbridge evaluate`: trains the chosen models on the same splits and seeds, evaluates them
 * together (full ranking with seen items masked, several cut-offs, activity slices, optionally the
 * sampled protocol), prints mean ± std, and writes JSON and an HTML report.
 */
import * as path from 'node:path';

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
import { loadCommandModel, loadKnownInteractions } from './model-file';
import { ProgressReporter } from './progress';
import { RunRecord, commandLine } from './provenance';
import type { Args, CommandSpec, FlagSpec } from './args';
import { INPUT_FLAGS, inputOptions, requireFiles } from './input';
import { oneStdout, resultJson, writeOutput } from './output';
import { TRAINING_THREADS_FLAG, trainingThreads } from './threads';
import { evaluationReport, pairedComparisons, printTable } from './evaluate-output';
import type { EvaluateResult, ModelRun } from './evaluate-result';

export type { EvaluateResult, ModelRun } from './evaluate-result';

export const MODEL_NAMES = ['pop', 'random', 'bpr'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface EvaluateSettings {
  data?: string;
  /** How input files are read (format, columns, header, minValue). */
  input: LoadInteractionsOptions;
  /** A saved model to evaluate on test instead of training models. */
  model?: string;
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

const MODEL_HELP = 'pop (popularity), random, bpr (matrix factorization, BPR + Adagrad)';

export const EVALUATE_FLAGS: Record<string, FlagSpec> = {
  data: { value: 'FILE', help: 'interactions to split (--split or --loo)' },
  split: { value: 'a,b[,c]', help: 'per-user split ratios train,test or train,validation,test (default 0.8,0.1,0.1)' },
  loo: { type: 'boolean', help: 'leave-one-out: the last interaction by time (or a seeded random one) is the test' },
  train: { value: 'FILE', help: 'a given split: training interactions (with --test)' },
  validation: { value: 'FILE', help: 'a given split: validation interactions (early stopping)' },
  test: { value: 'FILE', help: 'a given split: test interactions' },
  model: { value: 'FILE', help: 'evaluate a saved model on --test (its --train items are excluded) instead of training' },
  models: { value: 'a,b', help: `models to train and compare: ${MODEL_HELP} (default all)` },
  seeds: { value: 'N', help: 'seeds: each its own split and initialisation (default 3; claims need ≥ 3)' },
  k: { value: 'a,b', help: 'cut-offs (default 5,10,20)' },
  epochs: { value: 'N', help: 'bpr epochs (default 100 with validation, early stopping; else 30)' },
  dim: { value: 'D', help: 'bpr embedding width (default 64)' },
  negatives: { value: 'N', help: 'also the sampled protocol: each test item against N negatives' },
  buckets: { value: 'a,b', help: 'activity-bucket edges in training interactions per user (default: tertiles)' },
  threads: TRAINING_THREADS_FLAG,
  json: { value: 'FILE', help: 'write the results with the run record as JSON (- for stdout)' },
  report: { value: 'FILE', help: 'write the HTML report (- for stdout)' },
  log: { value: 'FILE', help: 'write the training reports (loss and validation per epoch) as JSON' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
  ...INPUT_FLAGS,
};

export function parseEvaluateArgs(args: Args): EvaluateSettings {
  const splitList = args.list('split');
  const split = splitList?.map((s) => {
    const r = Number(s);
    if (!(r > 0 && r < 1)) throw args.error(`Expected ratios in (0, 1) for --split but received ${JSON.stringify(splitList.join(','))}`);
    return r;
  });
  if (split && (split.length < 2 || split.length > 3 || Math.abs(split.reduce((a, b) => a + b, 0) - 1) > 1e-6)) {
    throw args.error(
      `Expected two or three ratios summing to 1 (train,test or train,validation,test) for --split but received ${JSON.stringify(splitList!.join(','))}`,
    );
  }
  const modelList = args.list('models') ?? ['pop', 'random', 'bpr'];
  const models = modelList.map((m) => (m === 'popularity' ? 'pop' : m));
  for (const m of models)
    if (!(MODEL_NAMES as readonly string[]).includes(m))
      throw args.error(`Expected models among ${MODEL_NAMES.join(', ')} for --models but received ${JSON.stringify(m)}`);
  const threads = trainingThreads(args);
  const settings: EvaluateSettings = {
    data: args.string('data'),
    input: inputOptions(args),
    split,
    loo: args.bool('loo'),
    train: args.string('train'),
    test: args.string('test'),
    validation: args.string('validation'),
    model: args.string('model'),
    models: [...new Set(models)] as ModelName[],
    seeds: args.int('seeds', 1, 100) ?? 3,
    ks: [...new Set(args.ints('k', 1, 100_000) ?? [5, 10, 20])].sort((a, b) => a - b),
    epochs: args.int('epochs', 1, 100_000),
    dim: args.int('dim', 1, 4096) ?? 64,
    negatives: args.int('negatives', 1, 1_000_000),
    buckets: args.ints('buckets', 0, 2 ** 31 - 1),
    threads: threads.value,
    json: args.string('json'),
    report: args.string('report'),
    log: args.string('log'),
  };
  const clash = oneStdout({ json: settings.json, report: settings.report, log: settings.log });
  if (clash) throw args.error(clash);
  if (settings.model !== undefined) {
    if (settings.test === undefined) throw args.error('--model evaluates on --test FILE');
    if (settings.train !== undefined && path.resolve(settings.train) === path.resolve(settings.test))
      throw args.error(
        '--train and --test are the same file: every test item would be masked as seen and every metric would be 0; hold the test rows out in their own file',
      );
    const bad = ['data', 'split', 'loo', 'validation', 'models', 'seeds', 'epochs', 'dim', 'threads', 'log'].find((f) => args.has(f));
    if (bad) throw args.error(`--${bad} does not apply to evaluating a saved --model`);
    return settings;
  }
  const files = settings.train !== undefined || settings.test !== undefined;
  if (files && (settings.train === undefined || settings.test === undefined)) throw args.error('Expected both --train and --test');
  if (settings.validation !== undefined && !files) throw args.error('--validation goes with --train and --test');
  const modes = [settings.split !== undefined, settings.loo, files].filter(Boolean).length;
  if (modes > 1) throw args.error('Choose one of --split, --loo, or --train/--test');
  if (!files && settings.data === undefined) throw args.error('Expected --data FILE (or --train and --test, or --model with --test)');
  if (files && settings.data !== undefined) throw args.error('--data and --train/--test are alternatives');
  if (!files && !settings.loo && !settings.split) settings.split = [0.8, 0.1, 0.1];
  if (settings.buckets) {
    settings.buckets.sort((a, b) => a - b);
    if (new Set(settings.buckets).size !== settings.buckets.length) throw args.error('Expected distinct edges for --buckets');
  }
  return settings;
}

interface SplitSet {
  train: Interactions;
  validation: Interactions | null;
  test: Interactions;
}

async function loadData(s: EvaluateSettings) {
  const opts = s.input;
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
  progress?: ProgressReporter,
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
      if (seed === 0 && name === s.models[0]) progress?.start('evaluate', seeds.length * s.models.length);
      progress?.update(seed * s.models.length + s.models.indexOf(name), `seed ${seed}: ${name}`);
      const built = await buildModel(name, s, split, seed, users, items);
      const evaluated = await evaluateSlices(built.model, split.test, {
        slices,
        ks: s.ks,
        exclude: seen,
        popularity: split.train.itemCounts(),
        // Per-user metrics pair the models over the same test users (pairedComparisons).
        perUser: true,
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
  progress?.update(seeds.length * s.models.length);
  progress?.done();
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

/**
 * A saved model on a test file: full ranking over the model's items with the --train file's items
 * (if any) masked. Rows whose user or item the model does not know are counted and left out: the
 * model has no row for them to rank.
 */
export async function runEvaluateModel(args: Args, s: EvaluateSettings): Promise<EvaluateResult> {
  const m = await loadCommandModel(args);
  const numUsers = m.ranking.users;
  const numItems = m.ranking.items;
  const known = (file: string) => loadKnownInteractions(file, m, s.input);
  const test = await known(s.test!);
  const train = s.train !== undefined ? await known(s.train) : null;
  const slices = train ? activityBuckets(train.data, s.buckets ?? defaultEdges(train.data, numUsers), numUsers) : {};
  const evaluated = await evaluateSlices(m.ranking, test.data, {
    slices,
    ks: s.ks,
    exclude: train?.data,
    popularity: train?.data.itemCounts(),
  });
  const run: ModelRun = { seed: 0, all: evaluated.all, slices: evaluated.slices };
  if (s.negatives)
    run.sampled = await evaluateSampled(m.ranking, test.data, { negatives: s.negatives, seed: 0, exclude: train?.data, ks: s.ks });
  const name = s.model!;
  return {
    dataset: s.test!,
    protocol: `saved model ${name} on ${s.test}; full ranking over ${numItems} items${train ? ` with ${s.train}'s items masked` : ' (nothing masked: give --train to mask seen items)'}; ${test.dropped} test rows of users or items the model does not know left out`,
    users: numUsers,
    items: numItems,
    ks: s.ks,
    seeds: [0],
    slices: Object.fromEntries(Object.entries(slices).map(([k, v]) => [k, [v.length]])),
    models: {
      [name]: {
        runs: [run],
        summary: summarize([{ all: run.all, slices: run.slices, ...(run.sampled ? { sampled: run.sampled } : {}) }]).summary,
      },
    },
  };
}

async function run(args: Args): Promise<number> {
  const settings = parseEvaluateArgs(args);
  requireFiles(args, { data: settings.data, train: settings.train, test: settings.test, validation: settings.validation });
  const recorded =
    settings.model === undefined
      ? settings
      : {
          model: settings.model,
          test: settings.test,
          train: settings.train,
          input: settings.input,
          ks: settings.ks,
          negatives: settings.negatives,
          buckets: settings.buckets,
        };
  const record = new RunRecord(commandLine(process.argv.slice(2)), { ...recorded }, settings.threads ?? 1);
  record.addInputs(settings.data, settings.train, settings.validation, settings.test, settings.model);
  const threads = trainingThreads(args);
  if (!threads.reproducible) record.notReproducible(threads.note);
  const progress = new ProgressReporter({ quiet: args.bool('quiet') });
  let result: EvaluateResult;
  let logs: { model: string; seed: number; report: FitReport }[] = [];
  if (settings.model !== undefined) result = await runEvaluateModel(args, settings);
  else ({ result, logs } = await runEvaluate(settings, (line) => progress.log(line), progress));
  const provenance = await record.finish(result.seeds);
  const toStdout = [settings.json, settings.report, settings.log].includes('-');
  if (!toStdout) console.log(printTable(result));
  if (!threads.reproducible) progress.log(`note: ${threads.note}`);
  if (settings.json) await writeOutput(settings.json, resultJson({ provenance, ...result, paired: pairedComparisons(result) }));
  if (settings.log) await writeOutput(settings.log, resultJson(logs));
  if (settings.report) await writeOutput(settings.report, evaluationReport(result, logs));
  return 0;
}

export const evaluate: CommandSpec = {
  name: 'evaluate',
  summary: 'train and compare models on the same splits and seeds, or evaluate a saved model',
  synopsis: '(--data FILE [--split a,b,c | --loo] | --train F --test F [--validation F] | --model F --test F [--train F]) [options]',
  flags: EVALUATE_FLAGS,
  notes: `Full ranking with training (and validation) items masked; mean ± std over seeds; NDCG by
training-activity bucket. Training uses one thread by default so the same command gives the same numbers.`,
  run,
};
