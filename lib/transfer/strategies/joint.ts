/**
 * Shared-user joint training (CMF-style). When to use: users overlap and both domains have signal
 * worth learning together. One user table serves two models — one over source items, one over
 * target items — and training alternates one source epoch (its steps weighted by α) and one target
 * epoch; negatives come from each model's own catalogue, so source rows never push users away from
 * target items. A cold user's vector is learned from their source rows alone, in the space the
 * target items share. Rounds stop early on target validation (warm and cold-validation users).
 */
import { snapshot } from '../../train/epoch-loop';
import { Interactions } from '../../data/interactions';
import { runSchedule } from '../schedule';
import { UserVectorsModel } from '../user-vectors-model';
import type { Strategy } from './strategy';

export interface JointOptions {
  /** Weight of the source loss (α). Default 1. */
  alpha?: number;
}

export function joint(options: JointOptions = {}): Strategy {
  const alpha = options.alpha ?? 1;
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
      let best = -Infinity;
      let restore: (() => void) | null = null;
      let since = 0;
      const validation = ctx.coldValidation.size > 0 ? ctx.coldValidation : ctx.split.validation;
      for (let round = 0; round < s.epochs && since <= s.patience; round++) {
        await runSchedule(
          targetModel,
          [
            { name: 'source', model: sourceModel, data: sourceRows, epochs: 1, lossWeight: alpha },
            { name: 'target', model: targetModel, data: ctx.split.train, epochs: 1 },
          ],
          ctx.fitOptions({ seed: ctx.seed + round }),
        );
        const metric = (await ctx.validate(targetModel, validation))[s.metric] as number;
        if (metric > best) {
          best = metric;
          since = 0;
          const saveTarget = snapshot(targetModel);
          const saveSource = snapshot(sourceModel);
          restore = () => {
            saveTarget();
            saveSource();
          };
        } else since++;
      }
      restore?.();
      const d = targetModel.dim;
      const has = new Uint8Array(target.numUsers).fill(1);
      return new UserVectorsModel(
        targetModel.userEmbedding.table.data.subarray(0, target.numUsers * d),
        has,
        targetModel.itemEmbedding.table,
        ctx.popularity,
      );
    },
  };
}
