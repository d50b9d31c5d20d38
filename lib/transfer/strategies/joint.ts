/**
 * Shared-user joint training (CMF-style). When to use: users overlap and both domains have signal
 * worth learning together. One user table serves two models — one over source items, one over
 * target items — and training alternates one source epoch (its steps weighted by α) and one target
 * epoch; negatives come from each model's own catalogue, so source rows never push users away from
 * target items. A cold user's vector is learned from their source rows alone, in the space the
 * target items share. Rounds stop early on target validation (warm and cold-validation users).
 */
import { Interactions } from '../../data/interactions';
import { runSchedule } from '../schedule';
import { UserVectorsModel } from '../user-vectors-model';
import { rangeError } from '../../core/validate';
import type { Strategy } from './strategy';

// The trainer's default rates (OptimizerOptions.lr), for settings that name an optimizer without one.
const DEFAULT_LR = { sgd: 0.05, adagrad: 0.1, 'rowwise-adagrad': 0.1, adam: 0.01 } as const;

export interface JointOptions {
  /** Weight of the source loss (α). Default 1. */
  alpha?: number;
  /**
   * Learning rate of the joint rounds, with the run's optimizer (settings.optimizer). Default:
   * LR_SCALE × settings.optimizer.lr: at the single-model rate the shared table has not converged
   * within settings.epochs rounds (cold validation still rising at round 100 on the Amazon pairs).
   */
  lr?: number;
}

/** Default joint learning rate over the run's single-model rate (chosen on cold validation). */
export const JOINT_LR_SCALE = 3;

export function joint(options: JointOptions = {}): Strategy {
  const alpha = options.alpha ?? 1;
  if (typeof alpha !== 'number' || !(alpha >= 0) || !Number.isFinite(alpha)) throw rangeError('options.alpha', 'finite number ≥ 0', alpha);
  if (options.lr !== undefined && (typeof options.lr !== 'number' || !(options.lr > 0) || !Number.isFinite(options.lr)))
    throw rangeError('options.lr', 'finite number > 0', options.lr);
  return {
    name: 'joint',
    summary: `one user table trained on source (weight α=${alpha}) and target rows in alternating epochs`,
    async run(ctx) {
      const { source, target, users } = ctx.alignment;
      // The joint user space: target rows first, then source users that have no target row.
      const toJoint = new Int32Array(source.numUsers).fill(-1);
      users.source.forEach((s, k) => (toJoint[s] = users.target[k]));
      let next = target.numUsers;
      for (let s = 0; s < source.numUsers; s++) if (toJoint[s] < 0) toJoint[s] = next++;
      const src = source.interactions;
      const sourceRows = new Interactions({
        users: src.users.map((u) => toJoint[u]),
        items: src.items,
        numUsers: next,
        numItems: source.numItems,
      });
      const targetModel = ctx.newMf(next, target.numItems, 4);
      const sourceModel = ctx.newMf(next, source.numItems, 5, { sharedUserEmbedding: targetModel.userEmbedding });
      const s = ctx.settings;
      const optimizer = { ...s.optimizer, lr: options.lr ?? JOINT_LR_SCALE * (s.optimizer.lr ?? DEFAULT_LR[s.optimizer.type]) };
      const d = targetModel.dim;
      // Only what the result is made of is kept at the best round: the target users' rows and the
      // target items (copying both models with their optimizer state each improving round cost
      // more than the round).
      const userRows = targetModel.userEmbedding.table.data;
      const items = targetModel.itemEmbedding.table.data;
      const bestUsers = new Float32Array(target.numUsers * d);
      const bestItems = new Float32Array(items.length);
      let best = -Infinity;
      let since = 0;
      const validation = ctx.coldValidation.size > 0 ? ctx.coldValidation : ctx.split.validation;
      for (let round = 0; round < s.epochs && since <= s.patience; round++) {
        await runSchedule(
          targetModel,
          [
            { name: 'source', model: sourceModel, data: sourceRows, epochs: 1, lossWeight: alpha },
            { name: 'target', model: targetModel, data: ctx.split.train, epochs: 1 },
          ],
          ctx.fitOptions({ seed: ctx.seed + round, optimizer }),
        );
        const metric = (await ctx.validate(targetModel, validation))[s.metric] as number;
        if (metric > best) {
          best = metric;
          since = 0;
          bestUsers.set(userRows.subarray(0, bestUsers.length));
          bestItems.set(items);
        } else since++;
      }
      if (best > -Infinity) items.set(bestItems);
      else bestUsers.set(userRows.subarray(0, bestUsers.length));
      const has = new Uint8Array(target.numUsers).fill(1);
      return new UserVectorsModel(bestUsers, has, targetModel.itemEmbedding.table, ctx.popularity);
    },
  };
}
