/**
 * Auto: per seed, the strategy or blend with the best metric on the cold validation users (the
 * users transfer serves; all validation users when the split has no cold ones). Candidates are the
 * report's strategies — their models come from TransferContext.run, so nothing is trained twice —
 * plus a fusion of the neighbourhood model with the two best other candidates on validation (exact
 * ties are broken on warm validation users). The
 * choice is an argmax over validation values, so on validation auto is at least as good as every
 * candidate by construction; on test it is what it is. A fusion candidate's value is its
 * cross-fitted one (weights tuned on half of the cold validation users, measured on the other half):
 * measured on the users it was tuned on, a per-segment blend always looks best.
 */
import type { Interactions } from '../../data/interactions';
import type { RankingModel } from '../../eval/ranking';
import type { TransferContext } from '../context';
import { fusion, type FusedEvaluation } from './fusion';
import type { CustomEvaluation, Strategy } from './strategy';

/** What auto's model carries besides the model itself. */
export interface AutoSelection {
  /** The chosen candidate's name. */
  chosen: string;
  /** The choice in words, with every candidate's validation value. */
  choice: string;
  /** Each candidate's validation metric. */
  validation: Record<string, number>;
  /**
   * The best candidate on validation that is one dot-product model (so it can be saved as a model
   * file and served), or null: the chosen one when it is such a model.
   */
  servable: { strategy: string; model: RankingModel } | null;
}

export type AutoModel = (RankingModel | CustomEvaluation) & AutoSelection;

/** Blends (and the kNN model itself) are not fused again. */
const NOT_BLENDED = new Set(['neighbours', 'hybrid', 'auto']);

export function auto(candidates: readonly Strategy[]): Strategy {
  return {
    name: 'auto',
    summary: 'the strategy or blend with the best cold-validation metric, chosen per seed',
    async run(ctx) {
      const scored: Array<{ strategy: Strategy; model: RankingModel | CustomEvaluation; value: number }> = [];
      for (const strategy of candidates) {
        const model = await ctx.run(strategy);
        scored.push({ strategy, model, value: await validationValue(ctx, model) });
      }
      const knn = candidates.find((c) => c.name === 'neighbours');
      const others = scored
        .filter((s) => !NOT_BLENDED.has(s.strategy.name) && !('choice' in s.model))
        .sort((a, b) => b.value - a.value)
        .slice(0, 2);
      if (knn && others.length) {
        const components = [knn, ...others.map((s) => s.strategy)];
        const blend = fusion({ components, name: `fusion(${components.map((c) => c.name).join('+')})` });
        const model = await ctx.run(blend);
        scored.push({ strategy: blend, model, value: await validationValue(ctx, model) });
      }
      let best = 0;
      scored.forEach((s, i) => {
        if (s.value > scored[best].value) best = i;
      });
      // Exact ties on cold users (blends that settled on the kNN model alone, say) are broken by warm
      // validation users, whom the chosen model serves too.
      const tied = scored.filter((s) => s.value === scored[best].value);
      if (tied.length > 1 && ctx.warmValidation.size) {
        let bestWarm = Number.NEGATIVE_INFINITY;
        for (const s of tied) {
          const v = await validationValue(ctx, s.model, ctx.warmValidation);
          if (v > bestWarm) {
            bestWarm = v;
            best = scored.indexOf(s);
          }
        }
      }
      const servableAt = scored.reduce<number>((b, s, i) => ('evaluate' in s.model ? b : b < 0 || s.value > scored[b].value ? i : b), -1);
      const metric = `${ctx.settings.metric}@${ctx.settings.k}`;
      const chosen = scored[best];
      const inner = (chosen.model as Partial<FusedEvaluation>).choice;
      const selection: AutoSelection = {
        chosen: chosen.strategy.name,
        choice:
          `${chosen.strategy.name} (cold validation ${metric} ${chosen.value.toFixed(4)}${inner ? `; ${inner}` : ''}); ` +
          `candidates: ${scored.map((s) => `${s.strategy.name} ${s.value.toFixed(4)}`).join(', ')}`,
        validation: Object.fromEntries(scored.map((s) => [s.strategy.name, s.value])),
        servable: servableAt < 0 ? null : { strategy: scored[servableAt].strategy.name, model: scored[servableAt].model as RankingModel },
      };
      return withSelection(chosen.model, selection);
    },
  };
}

async function validationValue(ctx: TransferContext, model: RankingModel | CustomEvaluation, rows?: Interactions): Promise<number> {
  // A tuned blend is judged on users it was not tuned on, or its in-sample edge would decide.
  const heldOut = (model as Partial<FusedEvaluation>).heldOut;
  if (!rows && typeof heldOut === 'number' && Number.isFinite(heldOut)) return heldOut;
  const data = rows ?? (ctx.coldValidation.size ? ctx.coldValidation : ctx.split.validation);
  if (!data.size) return Number.NEGATIVE_INFINITY;
  const m = 'evaluate' in model ? await model.evaluate(data, ctx.split.train, ctx.settings.k) : await ctx.validate(model, data);
  const v = m[ctx.settings.metric];
  return Number.isFinite(v) ? v : Number.NEGATIVE_INFINITY;
}

/** The chosen model, unchanged in how it ranks, carrying the selection (models are shared: not mutated). */
function withSelection(model: RankingModel | CustomEvaluation, selection: AutoSelection): AutoModel {
  if ('evaluate' in model) {
    return { evaluate: (t, e, k, o) => model.evaluate(t, e, k, o), scorer: () => model.scorer(), ...selection };
  }
  return {
    get users() {
      return model.users;
    },
    get items() {
      return model.items;
    },
    encodeItems: () => model.encodeItems(),
    userQuery: (u) => model.userQuery(u),
    ...selection,
  };
}
