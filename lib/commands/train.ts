/**
 * `recbridge train`: a matrix-factorization or two-tower model from interaction files (and side
 * features), with validation and early stopping, saved as a model file with its ids and the run
 * record, ready for `evaluate --model`, `recommend`, `export` and `serve`.
 */
import { loadFeatures } from '../data/load-features';
import { loadInteractions } from '../data/load-interactions';
import { Interactions } from '../data/interactions';
import { splitByUser } from '../data/split';
import { Vocabulary } from '../data/vocabulary';
import { saveModel } from '../io/model-file/save';
import { MatrixFactorization } from '../models/matrix-factorization';
import { TwoTower, type TowerOptions } from '../models/two-tower';
import { AlsTrainer } from '../train/als-trainer';
import { Trainer, type FitReport, type MfLossName, type OptimizerType, type Progress } from '../train/trainer';
import { trainTwoTower } from '../train/two-tower-trainer';
import { entityFeatures } from '../transfer/domain';
import type { Args, CommandSpec } from './args';
import { INPUT_FLAGS, inputOptions, requireFiles } from './input';
import { oneStdout, resultJson, toPathOrStdout, writeOutput } from './output';
import { ProgressReporter } from './progress';
import { RunRecord, commandLine } from './provenance';
import { TRAINING_THREADS_FLAG, trainingThreads } from './threads';

const KINDS = ['mf', 'als', 'two-tower'] as const;
const SOLVERS = ['cg', 'cholesky'] as const;
const CONFIDENCES = ['linear', 'log'] as const;
const LOSSES: readonly MfLossName[] = ['bpr', 'bce', 'mse', 'warp'];
const OPTIMIZERS: readonly OptimizerType[] = ['sgd', 'adagrad', 'rowwise-adagrad', 'adam'];
const SAMPLERS = ['uniform', 'popularity', 'in-batch'] as const;
const METRICS = ['recall', 'ndcg', 'hit', 'mrr', 'precision'] as const;

export const train: CommandSpec = {
  name: 'train',
  summary: 'train a matrix-factorization or two-tower model from interactions → a model file',
  synopsis: '--data FILE --out model.safetensors [options]',
  flags: {
    data: { value: 'FILE', help: 'training interactions' },
    validation: { value: 'FILE', help: 'validation interactions for early stopping' },
    'validation-split': { value: 'X', help: "hold out this share of each user's rows of --data for early stopping (e.g. 0.1)" },
    out: { value: 'FILE', help: 'the model file to write (safetensors with ids and the run record; - for stdout)' },
    json: { value: 'FILE', help: 'write the training report (per epoch) with the run record as JSON (- for stdout)' },
    kind: { value: 'K', help: `model: ${KINDS.join(', ')} (default mf; als: matrix factorization trained by implicit ALS)` },
    dim: { value: 'D', help: 'embedding width (default 64)' },
    loss: { value: 'L', help: `mf loss: ${LOSSES.join(', ')} (default bpr; two-tower: in-batch softmax)` },
    negatives: { value: 'N', help: 'bce: sampled negatives per positive, 1..8 (default 4)' },
    sampler: { value: 'S', help: `negative sampler: ${SAMPLERS.join(', ')} (default uniform)` },
    optimizer: { value: 'O', help: `${OPTIMIZERS.join(', ')} (default adagrad; two-tower: adam)` },
    lr: { value: 'X', help: 'learning rate (default: the optimizer’s)' },
    l2: { value: 'X', help: 'L2 regularisation (default 0; als 0.05)' },
    epochs: { value: 'N', help: 'most epochs (default 30; 100 with validation; als: iterations, default 15; 50 with validation)' },
    alpha: { value: 'X', help: 'als: confidence slope, an observed value v weighs 1 + X·v (default 10)' },
    confidence: { value: 'C', help: `als: ${CONFIDENCES.join(', ')} (log: 1 + alpha·ln(1 + v/eps); default linear)` },
    eps: { value: 'X', help: 'als: eps of the log confidence (default 1)' },
    'cg-steps': { value: 'N', help: 'als: conjugate-gradient steps per row and half-iteration (default 3)' },
    solver: { value: 'S', help: `als: row solver, ${SOLVERS.join(', ')} (cholesky is exact, for small --dim; default cg)` },
    patience: { value: 'N', help: 'epochs without improvement before stopping (default 5)' },
    metric: { value: 'M', help: `validation metric: ${METRICS.join(', ')} (default ndcg)` },
    k: { value: 'K', help: 'validation cut-off (default 10)' },
    'item-bias': { type: 'boolean', help: 'mf: learn a bias per item' },
    'user-features': { value: 'FILE', help: 'two-tower: user side features (RecBole .user, tsv or csv)' },
    'item-features': { value: 'FILE', help: 'two-tower: item side features (RecBole .item, tsv or csv)' },
    mlp: { value: 'a,b', help: 'two-tower: hidden sizes of each tower’s MLP (default none)' },
    'batch-size': { value: 'N', help: 'two-tower: interactions per batch (default 1024)' },
    seed: { value: 'S', help: 'seed of initialisation, shuffling and the validation split (default 0)' },
    threads: TRAINING_THREADS_FLAG,
    quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
    ...INPUT_FLAGS,
  },
  notes: `Example: recbridge train --data ratings.csv --user-col userId --item-col movieId --value-col rating \\
    --min-value 4 --validation-split 0.1 --out model.safetensors
The model file keeps the external ids, so recommend/serve take and return your ids.`,
  run,
};

function flagsFor(args: Args) {
  const kind = args.choice('kind', KINDS) ?? 'mf';
  const twoTowerOnly = ['user-features', 'item-features', 'mlp', 'batch-size'];
  const mfOnly = ['loss', 'negatives', 'sampler', 'item-bias'];
  const alsOnly = ['alpha', 'confidence', 'eps', 'cg-steps', 'solver'];
  const sgdOnly = ['optimizer', 'lr'];
  const owner = (flag: string) =>
    twoTowerOnly.includes(flag) ? 'two-tower' : mfOnly.includes(flag) ? 'mf' : alsOnly.includes(flag) ? 'als' : 'mf or two-tower';
  const notFor =
    kind === 'mf' ? [...twoTowerOnly, ...alsOnly] : kind === 'als' ? [...twoTowerOnly, ...mfOnly, ...sgdOnly] : [...mfOnly, ...alsOnly];
  const wrong = notFor.find((f) => args.has(f));
  if (wrong) throw args.error(`--${wrong} applies to --kind ${owner(wrong)}, not ${kind}`);
  const out = args.string('out');
  if (out === undefined) throw args.error('Expected --out FILE: where to write the model');
  if (out === '-' && args.string('json') === '-') throw args.error('Only one output can be stdout (-): --out, --json');
  if (!args.has('data')) throw args.error('Expected --data FILE');
  if (args.has('validation') && args.has('validation-split')) throw args.error('--validation and --validation-split are alternatives');
  const clash = oneStdout({ json: args.string('json') });
  if (clash) throw args.error(clash);
  return { kind, out };
}

async function run(args: Args): Promise<number> {
  const { kind, out } = flagsFor(args);
  const files = {
    data: args.string('data'),
    validation: args.string('validation'),
    'user-features': args.string('user-features'),
    'item-features': args.string('item-features'),
  };
  requireFiles(args, files);
  const input = inputOptions(args);
  const dim = args.int('dim', 1, 4096) ?? 64;
  const seed = args.int('seed', 0, 2 ** 32 - 2) ?? 0;
  const holdout = args.number('validation-split', 0.01, 0.5);
  const epochsGiven = args.int('epochs', 1, 100_000);
  const patience = args.int('patience', 1, 10_000) ?? 5;
  const metric = args.choice('metric', METRICS) ?? 'ndcg';
  const k = args.int('k', 1, 10_000) ?? 10;
  // ALS solves rows independently: any thread count gives the same bits.
  const threads = kind === 'als' ? { ...trainingThreads(args), reproducible: true } : trainingThreads(args);
  const optimizerType = args.choice('optimizer', OPTIMIZERS);
  const lr = args.number('lr', Number.MIN_VALUE, 100);
  const l2 = args.number('l2', 0, 100);
  const progress = new ProgressReporter({ quiet: args.bool('quiet') });
  const record = new RunRecord(
    commandLine(process.argv.slice(2)),
    { ...args.given, kind, dim, seed, threads: threads.value },
    threads.value,
  );
  record.addInputs(...Object.values(files));
  if (!threads.reproducible) record.notReproducible(threads.note);

  const users = new Vocabulary();
  const items = new Vocabulary();
  const loaded = await loadInteractions(files.data!, { ...input, users, items });
  let trainData = loaded.interactions;
  let validation: Interactions | undefined;
  if (files.validation !== undefined) validation = (await loadInteractions(files.validation, { ...input, users, items })).interactions;
  const resize = (x: Interactions) =>
    new Interactions({
      users: x.users,
      items: x.items,
      ...(x.values ? { values: x.values } : {}),
      numUsers: users.size,
      numItems: items.size,
    });
  trainData = resize(trainData);
  if (validation) validation = resize(validation);
  if (holdout !== undefined) {
    const [t, v] = splitByUser(trainData, [1 - holdout, holdout], seed);
    trainData = t!;
    validation = v!;
  }
  if (trainData.size === 0)
    throw args.error(
      `--data ${files.data} has no interactions to train on${loaded.filtered ? ` (--min-value dropped all ${loaded.filtered})` : ''}`,
    );
  progress.log(
    `${files.data}: ${users.size} users, ${items.size} items, ${trainData.size} training and ${validation?.size ?? 0} validation interactions${loaded.filtered ? ` (${loaded.filtered} rows below --min-value dropped)` : ''}`,
  );
  const epochs = epochsGiven ?? (kind === 'als' ? (validation ? 50 : 15) : validation ? 100 : 30);
  const validationOptions = validation ? { data: validation, metric, k, patience, restoreBest: true } : undefined;
  const onProgress = (p: Progress) =>
    progress.update(p.epoch - 1 + (p.totalSamples > 0 ? p.samples / p.totalSamples : 1), `epoch ${p.epoch} loss ${p.loss.toFixed(4)}`);
  progress.start(`training ${kind}`, epochs);

  let model: MatrixFactorization | TwoTower;
  let report: FitReport;
  if (kind === 'mf') {
    const mf = new MatrixFactorization({ users: users.size, items: items.size, dim, seed, itemBias: args.bool('item-bias') });
    const loss = args.choice('loss', LOSSES) ?? 'bpr';
    if (loss === 'mse' && !trainData.values)
      throw args.error('--loss mse needs ratings: give --value-col (or a file with a rating column)');
    const sampler = args.choice('sampler', SAMPLERS);
    report = await Trainer.fit(mf, trainData, {
      loss,
      negatives: args.int('negatives', 1, 8),
      sampler: sampler ? { type: sampler } : undefined,
      optimizer: { type: optimizerType ?? 'adagrad', ...(lr !== undefined ? { lr } : {}), ...(l2 !== undefined ? { l2 } : {}) },
      epochs,
      seed,
      threads: threads.value,
      validation: validationOptions,
      onProgress,
    });
    model = mf;
  } else if (kind === 'als') {
    const mf = new MatrixFactorization({ users: users.size, items: items.size, dim, seed });
    report = await AlsTrainer.fit(mf, trainData, {
      iterations: epochs,
      alpha: args.number('alpha', 0, 1e6),
      confidence: args.choice('confidence', CONFIDENCES),
      eps: args.number('eps', Number.MIN_VALUE, 1e9),
      l2,
      solver: args.choice('solver', SOLVERS),
      cgSteps: args.int('cg-steps', 1, 1000),
      threads: threads.value,
      validation: validationOptions,
      onProgress,
    });
    model = mf;
  } else {
    const tower = async (flag: string, entities: Vocabulary): Promise<TowerOptions> => {
      const file = args.string(flag);
      const mlp = args.ints('mlp', 1, 65_536);
      const base: TowerOptions = { idEmbedding: true, ...(mlp ? { mlp } : {}) };
      if (file === undefined) return base;
      const f = entityFeatures((await loadFeatures(file, { entities })).features);
      return {
        ...base,
        ...(f.bags ? { features: { vocabulary: f.bags.vocabulary, bags: { offsets: f.bags.offsets, indices: f.bags.indices } } } : {}),
        ...(f.dense ? { dense: f.dense } : {}),
      };
    };
    const tt = new TwoTower({
      users: users.size,
      items: items.size,
      dim,
      seed,
      user: await tower('user-features', users),
      item: await tower('item-features', items),
    });
    if (optimizerType !== undefined && optimizerType !== 'adam' && optimizerType !== 'sgd')
      throw args.error(`--optimizer for two-tower is adam or sgd, not ${optimizerType}`);
    report = await trainTwoTower(tt, trainData, {
      optimizer: { type: optimizerType ?? 'adam', ...(lr !== undefined ? { lr } : {}), ...(l2 !== undefined ? { l2 } : {}) },
      batchSize: args.int('batch-size', 2, 1 << 20),
      epochs,
      seed,
      threads: threads.value,
      validation: validationOptions,
      onProgress,
    });
    model = tt;
  }
  progress.done();
  progress.log(`trained ${report.epochs.length} epochs${report.stoppedEarly ? ` (stopped early; best ${report.bestEpoch} restored)` : ''}`);
  const provenance = await record.finish([seed]);
  const summary = {
    epochs: report.epochs.length,
    bestEpoch: report.bestEpoch,
    stoppedEarly: report.stoppedEarly,
    ...(report.bestMetric !== null ? { validation: { metric: `${metric}@${k}`, value: report.bestMetric } } : {}),
  };
  const saved = await toPathOrStdout(out, (file) =>
    saveModel(file, model, { vocabularies: { users, items }, provenance: { ...provenance, training: summary } }),
  );
  if (!threads.reproducible) progress.log(`note: ${threads.note}`);
  const json = args.string('json');
  if (json)
    await writeOutput(json, resultJson({ provenance, model: out, kind, users: users.size, items: items.size, training: summary, report }));
  // With the model on stdout, the summary goes to stderr.
  const say = out === '-' || json === '-' ? (line: string) => progress.log(line) : (line: string) => console.log(line);
  say(
    `saved ${kind} model (${users.size} users × ${items.size} items, dim ${dim}) to ${out === '-' ? 'stdout' : saved.path} (${(saved.bytes / 2 ** 20).toFixed(1)} MiB); ` +
      `${summary.epochs} epochs${validation ? `, best ${summary.bestEpoch}${summary.validation ? ` (${summary.validation.metric} ${summary.validation.value.toFixed(4)})` : ''}` : ''}`,
  );
  return 0;
}
