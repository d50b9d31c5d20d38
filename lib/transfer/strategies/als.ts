/**
 * ALS transfer. When to use: the domains share users and the data is implicit feedback. A source
 * model trained by implicit ALS puts every source user in one space; the target model starts with
 * the aligned users' source vectors and solves its items against them with those vectors fixed (so
 * target items live in the source user space), then refines every warm row with early stopping.
 * Users served by transfer (cold, including few-shot ones) keep their source vectors throughout:
 * an ALS solve of a user with no target rows would only shrink the vector to zero.
 */
import { AlsTrainer, type AlsFitOptions } from '../../train/als-trainer';
import { rangeError } from '../../core/validate';
import { copyParameters } from '../copy-parameters';
import { UserVectorsModel } from '../user-vectors-model';
import type { TransferContext } from '../context';
import type { Strategy } from './strategy';

export interface AlsTransferOptions {
  /**
   * Confidence slopes α (c = 1 + α·v) and L2 penalties λ to try: every pair runs, and the one with
   * the best validation metric on the users served by transfer (all validation users when none
   * are) is kept. Defaults [2, 10] and [1, 10]. Single numbers are a one-point grid.
   */
  alpha?: number | number[];
  l2?: number | number[];
  /** Iterations of the source model, and of the fixed-users phase on the target. Defaults 15 and 3. */
  sourceIterations?: number;
  anchorIterations?: number;
  /** Most refinement iterations (early stopping on validation). Default 15. */
  refineIterations?: number;
}

interface AlsRun {
  alpha: number;
  l2: number;
  sourceIterations: number;
  anchorIterations: number;
  refineIterations: number;
}

export function alsTransfer(options: AlsTransferOptions = {}): Strategy {
  const list = (name: string, v: number | number[] | undefined, fallback: number[]) => {
    const values = v === undefined ? fallback : Array.isArray(v) ? v : [v];
    if (values.length === 0) throw rangeError(`options.${name}`, 'a number or a non-empty array of numbers', v);
    return values;
  };
  const grid = { alpha: list('alpha', options.alpha, [2, 10]), l2: list('l2', options.l2, [1, 10]) };
  const fixed = {
    sourceIterations: options.sourceIterations ?? 15,
    anchorIterations: options.anchorIterations ?? 3,
    refineIterations: options.refineIterations ?? 15,
  };
  return {
    name: 'als',
    summary:
      'implicit ALS: target items solved against aligned users’ fixed source ALS vectors, then refined; cold users keep source vectors',
    run: (ctx) =>
      ctx.memo(`als:${JSON.stringify({ grid, fixed })}`, async () => {
        // α and λ chosen where transfer matters: on the validation rows of users served by transfer.
        const choice = ctx.coldValidation.size > 0 ? ctx.coldValidation : ctx.split.validation;
        let best: { model: UserVectorsModel; value: number } | null = null;
        for (const alpha of grid.alpha) {
          for (const l2 of grid.l2) {
            const model = await runAls(ctx, { alpha, l2, ...fixed });
            const value = (await ctx.validate(model, choice))[ctx.settings.metric];
            if (!best || value > best.value) best = { model, value };
          }
        }
        return best!.model;
      }),
  };
}

async function runAls(ctx: TransferContext, o: AlsRun): Promise<UserVectorsModel> {
  const alsOptions = (extra: AlsFitOptions): AlsFitOptions => ({
    alpha: o.alpha,
    l2: o.l2,
    threads: ctx.settings.threads,
    signal: ctx.signal,
    ...extra,
  });
  const sourceData = ctx.sourceData;
  const source = ctx.newMf(ctx.alignment.source.numUsers, ctx.alignment.source.numItems, 1);
  await AlsTrainer.fit(source, sourceData, alsOptions({ iterations: o.sourceIterations }));

  const target = ctx.alignment.target;
  const model = ctx.newMf(target.numUsers, target.numItems, 3);
  copyParameters(source, model, { include: ['user.embedding'], rows: { 'user.embedding': ctx.alignment.users } });
  const aligned = ctx.alignment.users.target;
  const transferred = Array.from(aligned).filter((u) => ctx.needsTransfer(u));
  const users = model.userEmbedding;
  // Phase 1: every aligned user fixed at its source vector; items (and unaligned warm users) solved.
  users.freezeRows(aligned);
  await AlsTrainer.fitPartial(model, ctx.split.train, alsOptions({ iterations: o.anchorIterations }));
  // Phase 2: warm users refine too; users served by transfer stay at their source vectors.
  users.unfreezeRows();
  if (transferred.length) users.freezeRows(transferred);
  const validation =
    ctx.split.validation.size > 0
      ? { data: ctx.split.validation, metric: ctx.settings.metric, k: ctx.settings.k, patience: ctx.settings.patience, restoreBest: true }
      : undefined;
  await AlsTrainer.fitPartial(model, ctx.split.train, alsOptions({ iterations: o.refineIterations, validation }));
  users.unfreezeRows();
  const has = new Uint8Array(target.numUsers);
  for (const u of aligned) has[u] = 1;
  for (let u = 0; u < has.length; u++) if (ctx.hasTrainRows[u]) has[u] = 1;
  return new UserVectorsModel(users.table.data, has, model.itemEmbedding.table, ctx.popularity);
}
