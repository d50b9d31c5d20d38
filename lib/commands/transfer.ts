/**
 * `recbridge transfer`: the lift report from the command line — on generated demo data or on two
 * interaction files whose users share ids (or a link table), with the seeded cold-user split or a
 * given one. Prints the table, writes JSON and HTML, and can save a strategy's model for serving.
 */
import { loadFeatures } from '../data/load-features';
import { loadInteractions } from '../data/load-interactions';
import { loadLinks } from '../data/load-links';
import { Interactions } from '../data/interactions';
import { Vocabulary } from '../data/vocabulary';
import type { RankingModel } from '../eval/ranking';
import { readIdList } from '../io/id-list';
import { saveModel } from '../io/model-file/save';
import type { FixedSplit } from '../transfer/cold-split';
import { alignDomains, type AlignOptions } from '../transfer/align';
import type { EarlyStopping } from '../transfer/context';
import { Domain, entityFeatures } from '../transfer/domain';
import { transfer, type LiftReport } from '../transfer/lift';
import { renderLiftReport } from '../transfer/lift-report';
import { formatLiftTable } from '../transfer/lift-table';
import { STRATEGY_NAMES, type AutoModel } from '../transfer/strategies';
import { syntheticDomains } from '../transfer/synthetic';
import { toMatrixFactorization } from '../transfer/user-vectors-model';
import type { Args, CommandSpec, FlagSpec } from './args';
import { INPUT_FLAGS, inputOptions, requireFiles } from './input';
import { oneStdout, resultJson, toPathOrStdout, writeOutput } from './output';
import { ProgressReporter } from './progress';
import { RunRecord, commandLine } from './provenance';
import { TRAINING_THREADS_FLAG, trainingThreads } from './threads';

const COMMON_FLAGS: Record<string, FlagSpec> = {
  strategies: { value: 'a,b', help: `strategies to compare (default: all): ${STRATEGY_NAMES.join(', ')}` },
  auto: {
    type: 'boolean',
    help: 'add the row auto: per seed, the strategy or blend best on cold validation users (with --save: saves it)',
  },
  seeds: { value: 'N', help: 'seeds (default 3; claims of "better than" need at least 3)' },
  dim: { value: 'D', help: 'embedding width (default 64; 32 for --demo)' },
  epochs: { value: 'N', help: 'most epochs per training (default 100, early stopping on validation)' },
  k: { value: 'K', help: 'the cut-off (default 10)' },
  sampled: { value: 'N', help: 'also the sampled protocol: each test item against N negatives' },
  threads: TRAINING_THREADS_FLAG,
  json: { value: 'FILE', help: 'write the report, with the run record, as JSON (- for stdout)' },
  report: { value: 'FILE', help: 'write the HTML report (- for stdout)' },
  save: { value: 'FILE', help: "save the chosen strategy's model (first seed) as a servable model file" },
  'save-strategy': { value: 'NAME', help: 'the strategy --save writes (default: auto with --auto, else the best on cold users)' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
  'unmask-validation': {
    type: 'boolean',
    help: "at test, mask only each user's training rows, not their validation rows (default: both masked)",
  },
  'early-stopping': {
    value: 'WHERE',
    help: "where the target-only model's early stopping validates: warm-validation (default), cold-validation (needs --cold-shots ≥ 1), none (a fixed --epochs)",
  },
  ratios: {
    value: 'A,B,C',
    help: "warm users' train,validation,test shares (default 0.8,0.1,0.1; validation may be 0 unless early stopping is warm-validation)",
  },
};

const EARLY_STOPPING: readonly EarlyStopping[] = ['warm-validation', 'cold-validation', 'none'];

const SPLIT_FLAGS: Record<string, FlagSpec> = {
  'cold-fraction': { value: 'X', help: 'share of shared users made cold in the target (default 0.2)' },
  'cold-shots': { value: 'N', help: 'target rows revealed per cold user (default 0)' },
  'few-shot': {
    value: 'N,N,…',
    help: "also the few-shot curve: cold users' NDCG and HR with each count of target rows revealed, e.g. 0,1,3,5 (off by default: each count reruns every strategy)",
  },
};

export const transferCommand: CommandSpec = {
  name: 'transfer',
  summary: 'lift report: transfer strategies against popularity, target-only and neighbourhood baselines',
  synopsis: '(--demo | --source F (--target F | --target-train F --target-validation F --target-test F)) [options]',
  flags: {
    demo: { type: 'boolean', help: 'generated source and target domains (see `recbridge demo`)' },
    users: { value: 'N', help: 'users of the generated domains (--demo; default 2000)' },
    source: { value: 'FILE', help: 'source-domain interactions' },
    target: { value: 'FILE', help: 'target-domain interactions (split by the seeded cold-user split)' },
    'target-train': { value: 'FILE', help: 'a given split: target training rows (users without any are cold)' },
    'target-validation': { value: 'FILE', help: 'a given split: target validation rows' },
    'target-test': { value: 'FILE', help: 'a given split: target test rows' },
    'cold-users': { value: 'FILE', help: 'a given list of cold target users (one id per line); other users split by ratio' },
    'cold-validation-users': { value: 'FILE', help: 'with --cold-users: the cold users that validate (default: half of --cold-users)' },
    'user-links': { value: 'FILE', help: 'source-id target-id pairs aligning users (default: shared ids)' },
    'trust-numeric-ids': {
      type: 'boolean',
      help: 'the integer user ids of both files are the same people: align them without the warning',
    },
    'user-features': { value: 'FILE', help: 'target user features (e.g. a RecBole .user file) for the content strategy' },
    ...SPLIT_FLAGS,
    ...COMMON_FLAGS,
    ...INPUT_FLAGS,
  },
  notes: `Warm users' target rows are split per user 80/10/10 (--ratios). Training uses one thread by default so that
the same command gives the same numbers; --threads N trains faster but not reproducibly.
A given split (--target-train/--target-validation/--target-test, or --cold-users) is the same for
every seed: seeds then vary only the initialisation and sampling.
When both files number their users as integer ranges (1..n), most ids match even between unrelated
files: the command warns on stderr and aligns them anyway; --trust-numeric-ids confirms they are the
same people and silences the warning, --user-links aligns by a table instead.`,
  run: (args) => runTransfer(args, false),
};

export const demo: CommandSpec = {
  name: 'demo',
  summary: 'the transfer demo: the lift report on generated domains (--scoring: the scoring demo)',
  synopsis: '[--report lift.html] [options] | --scoring [--items N] [--dim D] [--users U] [--seed S]',
  flags: {
    scoring: { type: 'boolean', help: 'the scoring demo instead: exact top-K on a generated catalogue, timed' },
    items: { value: 'N', help: '--scoring: items (default 100000)' },
    seed: { value: 'S', help: '--scoring: seed (default 1)' },
    users: { value: 'N', help: 'users (default 2000; --scoring: 2048)' },
    ...SPLIT_FLAGS,
    ...COMMON_FLAGS,
  },
  notes: 'Without --scoring, every flag of `recbridge transfer` applies, on its --demo data.',
  async run(args) {
    if (!args.bool('scoring')) {
      for (const f of ['items', 'seed']) if (args.has(f)) throw args.error(`--${f} goes with --scoring`);
      return runTransfer(args, true);
    }
    const other = Object.keys(args.given).filter((f) => !['scoring', 'items', 'dim', 'users', 'seed'].includes(f));
    if (other.length) throw args.error(`--${other[0]} does not apply to --scoring`);
    const { runDemo } = await import('./demo');
    const report = await runDemo({
      items: args.int('items', 1, 50_000_000),
      dim: args.int('dim', 1, 4096),
      users: args.int('users', 1, 1_000_000),
      seed: args.int('seed', 0, 2 ** 32 - 1),
    });
    return report.bruteForceAgrees ? 0 : 1;
  },
};

async function loadDomains(args: Args, demo: boolean): Promise<{ source: Domain; target: Domain; split?: FixedSplit }> {
  if (demo) return syntheticDomains({ users: args.int('users', 10, 10_000_000), seed: 1 });
  const opts = inputOptions(args);
  const sourcePath = args.string('source')!;
  const s = await loadInteractions(sourcePath, opts);
  const source = new Domain({ name: sourcePath, interactions: s.interactions, users: s.users, items: s.items });
  const users = new Vocabulary();
  const items = new Vocabulary();
  let interactions: Interactions;
  let split: FixedSplit | undefined;
  let name: string;
  const given = ['target-train', 'target-validation', 'target-test'].map((f) => args.string(f));
  if (given[0] !== undefined) {
    const parts: Interactions[] = [];
    for (const file of given) parts.push((await loadInteractions(file!, { ...opts, users, items })).interactions);
    const resize = (x: Interactions) => new Interactions({ users: x.users, items: x.items, numUsers: users.size, numItems: items.size });
    const [train, validation, test] = parts.map(resize) as [Interactions, Interactions, Interactions];
    interactions = Interactions.concat([train, validation, test]);
    split = { train, validation, test };
    name = given[0];
  } else {
    name = args.string('target')!;
    interactions = (await loadInteractions(name, { ...opts, users, items })).interactions;
  }
  const featuresPath = args.string('user-features');
  const userFeatures = featuresPath ? entityFeatures((await loadFeatures(featuresPath, { entities: users })).features) : undefined;
  const target = new Domain({ name, interactions, users, items, userFeatures });
  const coldPath = args.string('cold-users');
  if (coldPath !== undefined) {
    const rows = async (file: string, flag: string) => {
      const ids = await readIdList(file);
      return Int32Array.from(
        ids.toArray().map((id) => {
          const row = users.row(id);
          if (row === undefined) throw args.error(`--${flag}: user ${JSON.stringify(id)} has no target interactions`);
          return row;
        }),
      );
    };
    const validationPath = args.string('cold-validation-users');
    split = {
      coldUsers: await rows(coldPath, 'cold-users'),
      ...(validationPath ? { coldValidationUsers: await rows(validationPath, 'cold-validation-users') } : {}),
    };
  }
  return { source, target, split };
}

function checkFlags(args: Args, demo: boolean): void {
  const fileFlags = ['source', 'target', 'target-train', 'target-validation', 'target-test', 'cold-users', 'cold-validation-users'];
  if (demo || args.bool('demo')) {
    const bad = [...fileFlags, 'user-links', 'user-features', ...Object.keys(INPUT_FLAGS)].find((f) => args.has(f));
    if (bad) throw args.error(`--${bad} reads files; --demo generates its data`);
    if (args.has('trust-numeric-ids')) throw args.error('--trust-numeric-ids goes with --source and --target files');
    return;
  }
  if (args.has('users')) throw args.error('--users goes with --demo');
  if (!args.has('source')) throw args.error('Give --demo, or --source with --target (or a given split)');
  const given = ['target-train', 'target-validation', 'target-test'].filter((f) => args.has(f));
  if (given.length > 0 && given.length < 3)
    throw args.error('A given split needs all of --target-train, --target-validation and --target-test');
  if (given.length === 3 && args.has('target'))
    throw args.error('--target and --target-train/--target-validation/--target-test are alternatives');
  if (given.length === 0 && !args.has('target'))
    throw args.error('Give --target, or --target-train, --target-validation and --target-test');
  if (args.has('cold-users') && given.length)
    throw args.error('--cold-users goes with --target, not with a given train/validation/test split');
  if (args.has('cold-validation-users') && !args.has('cold-users')) throw args.error('--cold-validation-users goes with --cold-users');
  if ((given.length || args.has('cold-users')) && (args.has('cold-fraction') || args.has('cold-shots') || args.has('few-shot')))
    throw args.error('--cold-fraction, --cold-shots and --few-shot apply to the seeded split, not a given one');
  if (args.has('user-links') && args.has('trust-numeric-ids'))
    throw args.error('--trust-numeric-ids goes with shared ids, not --user-links');
  requireFiles(args, Object.fromEntries([...fileFlags, 'user-links', 'user-features'].map((f) => [f, args.string(f)])));
}

async function runTransfer(args: Args, demoCommand: boolean): Promise<number> {
  // `recbridge transfer --demo` is `recbridge demo`.
  const demo = demoCommand || args.bool('demo');
  checkFlags(args, demo);
  const strategies = args.list('strategies');
  for (const s of strategies ?? [])
    if (!STRATEGY_NAMES.includes(s))
      throw args.error(`Unknown strategy ${JSON.stringify(s)} in --strategies (choose from ${STRATEGY_NAMES.join(', ')})`);
  const saveStrategy = args.string('save-strategy');
  if (saveStrategy !== undefined && !args.has('save')) throw args.error('--save-strategy goes with --save');
  const auto = args.bool('auto');
  const run = ['popularity', 'target-only', ...(strategies ?? STRATEGY_NAMES), ...(auto ? ['auto'] : [])];
  if (saveStrategy !== undefined && !run.includes(saveStrategy))
    throw args.error(`--save-strategy ${JSON.stringify(saveStrategy)} is not among the strategies run`);
  const json = args.string('json');
  const report = args.string('report');
  const clash = oneStdout({ json, report, save: args.string('save') });
  if (clash) throw args.error(clash);
  const seeds = args.int('seeds', 1, 100) ?? 3;
  const coldFraction = args.number('cold-fraction', 0.01, 0.9);
  const coldShots = args.int('cold-shots', 0, 1000);
  const dim = args.int('dim', 1, 4096) ?? (demo ? 32 : undefined);
  const epochs = args.int('epochs', 1, 100_000);
  const k = args.int('k', 1, 10_000);
  const sampled = args.int('sampled', 1, 1_000_000);
  const fewShot = args.ints('few-shot', 0, 1000);
  const earlyStopping = args.choice('early-stopping', EARLY_STOPPING);
  const ratios = args.list('ratios')?.map((x) => {
    const n = Number(x);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw args.error(`Expected shares in [0, 1] for --ratios but received ${JSON.stringify(x)}`);
    return n;
  });
  if (ratios && (ratios.length !== 3 || Math.abs(ratios[0]! + ratios[1]! + ratios[2]! - 1) > 1e-9 || !(ratios[0]! > 0 && ratios[2]! > 0)))
    throw args.error('--ratios takes three shares (train, validation, test) summing to 1, train and test above 0');
  const protocol = { maskValidation: !args.bool('unmask-validation'), ...(earlyStopping ? { earlyStopping } : {}) };
  const threads = trainingThreads(args);
  const progress = new ProgressReporter({ quiet: args.bool('quiet') });

  const { source, target, split } = await loadDomains(args, demo);
  const linksPath = args.string('user-links');
  const userLinks = linksPath ? (await loadLinks(linksPath)).pairs : undefined;
  const settings = { ...(dim ? { dim } : {}), ...(epochs ? { epochs } : {}), ...(k ? { k } : {}), threads: threads.value };
  // The CLI warns about integer ids that may only match by coincidence, then goes on (the library refuses).
  const align: AlignOptions = userLinks ? { users: 'links', userLinks } : { trustNumericIds: true };
  const numeric = userLinks ? [] : alignDomains(source, target, align).report.numericIdRanges;
  if (numeric.length && !args.bool('trust-numeric-ids'))
    process.stderr.write(
      'recbridge transfer: warning: the user ids of both files are integer ranges (0/1…n), so most of them match even between unrelated files; ' +
        'they are aligned as the same people. If they are, add --trust-numeric-ids to say so; if not, give --user-links.\n',
    );
  const record = new RunRecord(
    commandLine(process.argv.slice(2)),
    {
      demo,
      strategies: strategies ?? 'all',
      auto,
      seeds,
      coldFraction,
      coldShots,
      split: split ? Object.keys(split) : 'seeded',
      ratios,
      fewShot,
      protocol,
      sampled,
      ...settings,
    },
    threads.value,
  );
  record.addInputs(
    ...['source', 'target', 'target-train', 'target-validation', 'target-test', 'cold-users', 'user-links', 'user-features'].map((f) =>
      args.string(f),
    ),
  );
  if (!threads.reproducible) record.notReproducible(threads.note);

  const kept = new Map<string, RankingModel | object>();
  const firstSeed = 0;
  progress.start('transfer', 0);
  const result: LiftReport = await transfer(source, target, {
    strategies,
    auto,
    seeds,
    coldFraction,
    coldShots,
    split,
    ratios,
    fewShot,
    protocol,
    align,
    sampled: sampled ? { negatives: sampled } : undefined,
    settings,
    onModel: args.has('save') ? (e) => e.seed === firstSeed && kept.set(e.strategy, e.model) : undefined,
    onProgress: (e) => {
      if (e.index === 0) progress.start('transfer', e.total);
      progress.update(e.index, `seed ${e.seed}: ${e.strategy}${e.shots === undefined ? '' : ` (${e.shots} shots)`}`);
    },
  });
  progress.update(Number.MAX_SAFE_INTEGER);
  progress.done();
  const provenance = await record.finish(result.seeds);
  if (json !== '-' && report !== '-' && args.string('save') !== '-') console.log(formatLiftTable(result));
  if (!threads.reproducible) progress.log(`note: ${threads.note}`);
  if (json) await writeOutput(json, resultJson({ provenance, ...result }));
  if (report) await writeOutput(report, renderLiftReport(result, { command: provenance.command }));
  const save = args.string('save');
  if (save !== undefined) {
    const chosen = saveStrategy ?? (auto ? 'auto' : result.best?.strategy);
    if (chosen === undefined) throw args.error('No strategy was best on cold users to save; name one with --save-strategy');
    let model = kept.get(chosen);
    let saving = chosen;
    let note = '';
    const selection = chosen === 'auto' ? (model as AutoModel | undefined) : undefined;
    if (selection && !('encodeItems' in selection)) {
      // A kNN model or a blend has no model-file form: the best embedding model on validation stands in.
      if (!selection.servable)
        throw args.error(
          `auto chose ${selection.chosen}, which ranks with neighbourhood scores, and no candidate is an embedding model to save instead`,
        );
      model = selection.servable.model;
      saving = selection.servable.strategy;
      note = ` (auto chose ${selection.chosen}, which ranks with neighbourhood scores and has no model-file form; saved the best embedding strategy on validation instead)`;
    }
    if (!model || !('encodeItems' in model))
      throw args.error(
        `Strategy ${chosen} ranks with its own scores (neighbourhood or closed-form), not embeddings, so it cannot be saved as a model; choose another with --save-strategy`,
      );
    const saved = await toPathOrStdout(save, (file) =>
      saveModel(file, toMatrixFactorization(model as RankingModel), {
        vocabularies: { users: target.users, items: target.items },
        optimizerState: false,
        provenance: {
          ...provenance,
          strategy: saving,
          ...(selection ? { auto: { chosen: selection.chosen, choice: selection.choice, validation: selection.validation } } : {}),
          seed: firstSeed,
          trainedOn: 'the target training rows of the first seed (cold users served by transfer)',
        },
      }),
    );
    progress.log(
      `saved ${chosen === saving ? chosen : `${saving} for auto`} (seed ${firstSeed}) to ${save === '-' ? 'stdout' : saved.path} (${(saved.bytes / 2 ** 20).toFixed(1)} MiB)${note}`,
    );
  }
  const written = [json, report].filter((f) => f !== undefined && f !== '-');
  if (written.length) progress.log(`wrote ${written.join(' and ')} (${provenance.seconds.toFixed(1)} s)`);
  return 0;
}
