/**
 * Fusion: the neighbourhood model's scores fused with one or more learned strategies' scores, with
 * weights chosen per user segment. When to use: the kNN baseline is strong but not for everyone —
 * cold users with a short source history are where it knows least and embeddings (or popularity)
 * help most, so one global weight (hybrid) is a compromise.
 *
 * Cold users are grouped by how many source rows they bring (quantiles over the cold validation
 * users, at least `minSegmentUsers` per segment); each segment gets the blend — normalisation and
 * weights on a simplex grid (score-fusion.ts) — with the best validation metric on its cold
 * validation users; warm users get one blend tuned on (a sample of) warm validation users. Each
 * component alone is part of every grid, so on validation fusion is never worse than its best
 * component, per segment and hence overall. Components are any strategies of the run (their models
 * are shared through TransferContext.run, not trained again).
 */
import { RecbridgeError } from '../../core/errors';
import { uniformGenerator } from '../../core/random';
import { scoreItems } from '../../core/scoring';
import { expectInteger, expectOptions, rangeError, typeError } from '../../core/validate';
import type { Interactions } from '../../data/interactions';
import { GroupAccumulator } from '../../eval/accumulator';
import { perUserArrays, storeUser, type RankingModel } from '../../eval/ranking';
import { METRIC_COUNT, USER_METRICS, userMetrics } from '../../eval/user-metrics';
import type { TransferContext } from '../context';
import { rankingMetricsOf } from '../merge-metrics';
import {
  FUSION_NORMALIZATIONS,
  fusionGrid,
  crossFittedValue,
  pickPerSegment,
  segmentBounds,
  segmentOf,
  UserScores,
  type FusionConfig,
  type FusionNormalization,
} from '../score-fusion';
import { fineTune } from './fine-tune';
import { mapping } from './mapping';
import { neighbours } from './neighbours';
import type { CustomEvaluation, Strategy } from './strategy';

export interface FusionOptions {
  /**
   * The strategies whose scores are fused (2 to 4; their models are shared with the report).
   * Default: neighbours, fine-tune and mapping-linear.
   */
  components?: Strategy[];
  /** Most segments of cold users by source history length. Default 3 (1: one blend for all cold users). */
  segments?: number;
  /** Fewest cold validation users per segment (fewer segments otherwise). Default 30. */
  minSegmentUsers?: number;
  /** Normalisations tried (see score-fusion.ts). Default ['minmax', 'rank']. */
  normalizations?: FusionNormalization[];
  /** Most warm validation users the warm blend is tuned on (a seeded sample). Default 2000. */
  maxWarmUsers?: number;
  /** The name in reports. Default 'fusion'. */
  name?: string;
}

/** Items ranked per component: the top lists fusion blends among (and the depth of rank normalisation). */
const DEPTH = 1000;

/** What a strategy chose on validation, shown per seed in the report. */
export interface FusedEvaluation extends CustomEvaluation {
  choice: string;
  /**
   * The metric on the cold validation users with weights tuned on the other half of them (two
   * folds, crossFittedValue): what the tuning is worth out of sample. NaN without cold validation users.
   */
  heldOut: number;
}

export function fusion(options: FusionOptions = {}): Strategy {
  const o = expectOptions('options', options);
  const components = o.components ?? [neighbours, fineTune(), mapping({ kind: 'linear' })];
  if (!Array.isArray(components) || components.length < 2 || components.length > 4)
    throw rangeError('options.components', 'an array of 2 to 4 strategies', components);
  components.forEach((c, i) => {
    if (!c || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.run !== 'function')
      throw typeError(`options.components[${i}]`, 'Strategy { name, summary, run }', c);
  });
  const segments = o.segments === undefined ? 3 : expectInteger('options.segments', o.segments, 1, 16);
  const minSegmentUsers = o.minSegmentUsers === undefined ? 30 : expectInteger('options.minSegmentUsers', o.minSegmentUsers, 1);
  const normalizations = o.normalizations ?? [...FUSION_NORMALIZATIONS];
  if (!Array.isArray(normalizations) || normalizations.length === 0 || normalizations.some((n) => !FUSION_NORMALIZATIONS.includes(n)))
    throw rangeError('options.normalizations', "a non-empty array of 'minmax' and 'rank'", normalizations);
  const maxWarmUsers = o.maxWarmUsers === undefined ? 2000 : expectInteger('options.maxWarmUsers', o.maxWarmUsers, 1);
  const name = o.name ?? 'fusion';
  if (typeof name !== 'string' || name === '') throw typeError('options.name', 'non-empty string', name);
  const settings = { components, segments, minSegmentUsers, normalizations, maxWarmUsers };
  return {
    name,
    summary: `per-segment blend of ${components.map((c) => c.name).join(', ')} scores (cold users segmented by source history length), chosen on validation`,
    run: (ctx) => runFusion(ctx, settings),
  };
}

type Settings = Required<Omit<FusionOptions, 'name'>>;

async function runFusion(ctx: TransferContext, o: Settings): Promise<FusedEvaluation> {
  const models: Array<RankingModel | CustomEvaluation> = [];
  for (const c of o.components) models.push(await ctx.run(c));
  const names = o.components.map((c) => c.name);
  const items = ctx.alignment.target.numItems;
  const grid = fusionGrid(models.length, o.normalizations);
  const sourceRows = sourceRowCounts(ctx);
  const metric = USER_METRICS.indexOf(ctx.settings.metric);
  const exclude = ctx.split.train;
  const walker = new Walker(ctx, models, items, grid);

  // Cold users: one blend per segment of source history length.
  const coldUsers = usersWithRows(ctx.coldValidation);
  const bounds = segmentBounds(
    coldUsers.map((u) => sourceRows[u]),
    o.segments,
    o.minSegmentUsers,
  );
  const tuned: Record<'cold' | 'warm', Int32Array> = { cold: new Int32Array(bounds.length + 1), warm: new Int32Array(1) };
  const measured: string[] = [];
  let heldOut = Number.NaN;
  for (const group of ['cold', 'warm'] as const) {
    const validation = group === 'cold' ? ctx.coldValidation : ctx.warmValidation;
    const users = group === 'cold' ? coldUsers : sample(usersWithRows(validation), o.maxWarmUsers, ctx.seed);
    if (!users.length) continue;
    const values = new Float32Array(grid.length * users.length);
    const all = grid.map((_, i) => i);
    await walker.walk(
      users,
      validation,
      exclude,
      ctx.settings.k,
      () => all,
      (n, c, v) => {
        values[c * users.length + n] = v[metric];
      },
    );
    const segmentOfUser = Int32Array.from(users, (u) => (group === 'cold' ? segmentOf(sourceRows[u], bounds) : 0));
    tuned[group] = pickPerSegment(values, grid.length, segmentOfUser, group === 'cold' ? bounds.length + 1 : 1);
    if (group === 'cold') heldOut = crossFittedValue(values, grid.length, segmentOfUser, bounds.length + 1);
    measured.push(`${group} ${describeValidation(values, users.length, grid, tuned[group], segmentOfUser, names.length)}`);
  }
  const configOf = (u: number): number => (ctx.split.isCold[u] ? tuned.cold[segmentOf(sourceRows[u], bounds)] : tuned.warm[0]);
  const label = (c: number) => describeConfig(grid[c], names);
  const segmentsText = Array.from(tuned.cold, (c, s) => `${rangeText(bounds, s)}: ${label(c)}`).join('; ');
  const choice =
    `cold users by source rows: ${segmentsText} | warm: ${label(tuned.warm[0])} | ` +
    `validation ${ctx.settings.metric}@${ctx.settings.k} (best minmax / best rank / chosen): ${measured.join(', ')}; ` +
    `cold, tuned on the other half: ${heldOut.toFixed(4)}`;
  // The report evaluates cold, warm and all test users with the same mask: each user is ranked once.
  let cache: { exclude: Interactions; k: number; ranked: Map<number, Int32Array> } | null = null;
  return {
    choice,
    heldOut,
    async evaluate(test, excluded, k, options) {
      const users = usersWithRows(test);
      const acc = new GroupAccumulator([k], items);
      const per = options?.perUser ? perUserArrays(Int32Array.from(users), [k], false) : null;
      if (!cache || cache.exclude !== excluded || cache.k !== k) cache = { exclude: excluded, k, ranked: new Map() };
      const ranked = cache.ranked;
      const truth = test.byUser();
      const values = new Float64Array(METRIC_COUNT);
      const record = (n: number, v: Float64Array, list: Int32Array) => {
        acc.add(v, list, 0);
        if (per) storeUser(per, n, v, [k], 0);
      };
      const todo: number[] = [];
      const at: number[] = [];
      users.forEach((u, n) => {
        const list = ranked.get(u);
        if (!list) {
          todo.push(u);
          at.push(n);
          return;
        }
        userMetrics(list, truth.indices.subarray(truth.offsets[u], truth.offsets[u + 1]), [k], null, values);
        record(n, values, list);
      });
      await walker.walk(
        todo,
        test,
        excluded,
        k,
        (u) => [configOf(u)],
        (n, _c, v, list) => {
          ranked.set(todo[n], list);
          record(at[n], v, list);
        },
      );
      const m = rankingMetricsOf(acc.result(false).byK[k], users.length, k, test.numUsers - users.length);
      return per ? { ...m, perUser: per } : m;
    },
    scorer() {
      const view = walker.fresh();
      return {
        users: ctx.alignment.target.numUsers,
        items,
        score(u, candidates, out) {
          const config = grid[configOf(u)];
          // Min-max blends need no top lists.
          return view.scores(u, [], config.normalize === 'rank' ? DEPTH : 0).blendAt(config, candidates, out);
        },
      };
    },
  };
}

/** Component scores of users, and the loop that ranks blends of them against truth rows. */
class Walker {
  private readonly scorers: Array<(u: number) => Float32Array>;

  constructor(
    private readonly ctx: TransferContext,
    private readonly models: Array<RankingModel | CustomEvaluation>,
    private readonly items: number,
    private readonly grid: FusionConfig[],
  ) {
    this.scorers = this.makeScorers();
  }

  private makeScorers(): Array<(u: number) => Float32Array> {
    const all = Int32Array.from({ length: this.items }, (_, i) => i);
    return this.models.map((m) => {
      if ('evaluate' in m) {
        const s = m.scorer();
        return (u: number) => s.score(u, all, new Float32Array(this.items));
      }
      const table = m.encodeItems();
      return (u: number) => scoreItems(table, m.userQuery(u));
    });
  }

  /** Another walker over the same models (a scorer of its own: CandidateScorers cache per user). */
  fresh(): Walker {
    return new Walker(this.ctx, this.models, this.items, this.grid);
  }

  scores(u: number, normalizations?: readonly FusionNormalization[], depth = DEPTH): UserScores {
    return new UserScores(
      this.scorers.map((f) => f(u)),
      depth,
      normalizations,
    );
  }

  /**
   * For each user (with rows in `truth`), ranks the blends `configs(u)` (indices into the run's grid)
   * with `exclude`'s items masked, and hands each ranking's per-user metrics at k to `visit`.
   */
  async walk(
    users: number[],
    truth: Interactions,
    exclude: Interactions,
    k: number,
    configs: (u: number) => number[],
    visit: (n: number, config: number, values: Float64Array, ranked: Int32Array) => void,
  ): Promise<void> {
    const csr = truth.byUser();
    const seen = exclude.byUser();
    const masked = new Uint8Array(this.items);
    const buffer = new Float32Array(this.items);
    const values = new Float64Array(METRIC_COUNT);
    for (let n = 0; n < users.length; n++) {
      const u = users[n];
      const relevant = csr.indices.subarray(csr.offsets[u], csr.offsets[u + 1]);
      const own = u < seen.offsets.length - 1 ? seen.indices.subarray(seen.offsets[u], seen.offsets[u + 1]) : new Int32Array(0);
      for (const j of own) masked[j] = 1;
      const wanted = configs(u);
      const view = this.scores(u, [...new Set(wanted.map((c) => this.grid[c].normalize))]);
      for (const c of wanted) {
        const ranked = view.rank(this.grid[c], k, masked, own, buffer);
        userMetrics(ranked, relevant, [k], null, values);
        visit(n, c, values, ranked);
      }
      for (const j of own) masked[j] = 0;
      if (n % 128 === 127) {
        if (this.ctx.signal?.aborted) throw new RecbridgeError('ABORT_ERR', 'transfer() was aborted');
        await new Promise((r) => setImmediate(r));
      }
    }
  }
}

function usersWithRows(data: Interactions): number[] {
  const { offsets } = data.byUser();
  const out: number[] = [];
  for (let u = 0; u < data.numUsers; u++) if (offsets[u + 1] > offsets[u]) out.push(u);
  return out;
}

/** At most `max` of `users`, a seeded sample in ascending order. */
function sample(users: number[], max: number, seed: number): number[] {
  if (users.length <= max) return users;
  const rand = uniformGenerator(seed + 0xf05e);
  const a = users.slice();
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, max).sort((x, y) => x - y);
}

/** Source rows of each target user's paired source user (0 for unpaired users). */
function sourceRowCounts(ctx: TransferContext): Int32Array {
  const out = new Int32Array(ctx.alignment.target.numUsers);
  const { offsets } = ctx.sourceData.byUser();
  const pairs = ctx.alignment.users;
  pairs.target.forEach((t, k) => (out[t] = offsets[pairs.source[k] + 1] - offsets[pairs.source[k]]));
  return out;
}

function describeConfig(config: FusionConfig, names: string[]): string {
  const used = config.weights.map((w, c) => ({ w, c })).filter((x) => x.w > 0);
  if (used.length === 1) return `${names[used[0].c]} alone`;
  return `${config.normalize} ${used.map((x) => `${names[x.c]} ${x.w.toFixed(2)}`).join(' + ')}`;
}

function rangeText(bounds: number[], s: number): string {
  if (bounds.length === 0) return 'all';
  if (s === 0) return `<${bounds[0]}`;
  if (s === bounds.length) return `≥${bounds[s - 1]}`;
  return `${bounds[s - 1]}–${bounds[s] - 1}`;
}

/** Mean validation value of the best minmax-only blend, the best rank-only blend and the chosen ones. */
function describeValidation(
  values: Float32Array,
  users: number,
  grid: FusionConfig[],
  chosen: Int32Array,
  segmentOfUser: Int32Array,
  components: number,
): string {
  const mean = (c: number) => {
    let s = 0;
    for (let n = 0; n < users; n++) s += values[c * users + n];
    return s / users;
  };
  // Vertices (single components) count for both normalisations.
  const best = (norm: FusionNormalization) => {
    let b = NaN;
    grid.forEach((g, c) => {
      if (c < components || g.normalize === norm) b = Number.isNaN(b) ? mean(c) : Math.max(b, mean(c));
    });
    return b;
  };
  let total = 0;
  for (let n = 0; n < users; n++) total += values[chosen[segmentOfUser[n]] * users + n];
  return `${best('minmax').toFixed(4)} / ${best('rank').toFixed(4)} / ${(total / users).toFixed(4)}`;
}
