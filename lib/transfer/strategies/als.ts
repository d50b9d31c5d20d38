/**
 * ALS transfer. When to use: the domains share users and the data is implicit feedback. A source
 * model trained by implicit ALS puts every source user in one space; the target model starts with
 * the aligned users' source vectors and solves its items against them with those vectors fixed (so
 * target items live in the source user space), then refines every warm row with early stopping.
 * Users served by transfer (cold, including few-shot ones) keep their source vectors throughout:
 * an ALS solve of a user with no target rows would only shrink the vector to zero.
 */
import { AlsTrainer, type AlsFitOptions } from '../../train/als-trainer';
import { copyParameters } from '../copy-parameters';
import { UserVectorsModel } from '../user-vectors-model';
import type { TransferContext } from '../context';
import type { Strategy } from './strategy';

export interface AlsTransferOptions {
  /** Confidence slope α (c = 1 + α·v). Default 10. */
  alpha?: number;
  /** L2 penalty λ on every vector. Default 0.5. */
  l2?: number;
  /** Iterations of the source model, and of the fixed-users phase on the target. Defaults 15 and 3. */
  sourceIterations?: number;
  anchorIterations?: number;
  /** Most refinement iterations (early stopping on validation). Default 15. */
  refineIterations?: number;
}

export function alsTransfer(options: AlsTransferOptions = {}): Strategy {
  const o = {
    alpha: options.alpha ?? 10,
    l2: options.l2 ?? 0.5,
    sourceIterations: options.sourceIterations ?? 15,
    anchorIterations: options.anchorIterations ?? 3,
    refineIterations: options.refineIterations ?? 15,
  };
  return {
    name: 'als',
    summary:
      'implicit ALS: target items solved against aligned users’ fixed source ALS vectors, then refined; cold users keep source vectors',
    run: (ctx) => ctx.memo(`als:${JSON.stringify(o)}`, () => runAls(ctx, o)),
  };
}

async function runAls(ctx: TransferContext, o: Required<AlsTransferOptions>): Promise<UserVectorsModel> {
  const fit = (extra: AlsFitOptions): AlsFitOptions => ({
    alpha: o.alpha,
    l2: o.l2,
    threads: ctx.settings.threads,
    signal: ctx.signal,
    ...extra,
  });
  const sourceData = ctx.sourceData;
  const source = ctx.newMf(ctx.alignment.source.numUsers, ctx.alignment.source.numItems, 1);
  await AlsTrainer.fit(source, sourceData, fit({ iterations: o.sourceIterations }));

  const target = ctx.alignment.target;
  const model = ctx.newMf(target.numUsers, target.numItems, 3);
  copyParameters(source, model, { include: ['user.embedding'], rows: { 'user.embedding': ctx.alignment.users } });
  const aligned = ctx.alignment.users.target;
  const transferred = Array.from(aligned).filter((u) => ctx.needsTransfer(u));
  const users = model.userEmbedding;
  // Phase 1: every aligned user fixed at its source vector; items (and unaligned warm users) solved.
  users.freezeRows(aligned);
  await AlsTrainer.fitPartial(model, ctx.split.train, fit({ iterations: o.anchorIterations }));
  // Phase 2: warm users refine too; users served by transfer stay at their source vectors.
  users.unfreezeRows();
  if (transferred.length) users.freezeRows(transferred);
  const validation =
    ctx.split.validation.size > 0
      ? { data: ctx.split.validation, metric: ctx.settings.metric, k: ctx.settings.k, patience: ctx.settings.patience, restoreBest: true }
      : undefined;
  await AlsTrainer.fitPartial(model, ctx.split.train, fit({ iterations: o.refineIterations, validation }));
  users.unfreezeRows();
  const has = new Uint8Array(target.numUsers);
  for (const u of aligned) has[u] = 1;
  for (let u = 0; u < has.length; u++) if (ctx.hasTrainRows[u]) has[u] = 1;
  return new UserVectorsModel(users.table.data, has, model.itemEmbedding.table, ctx.popularity);
}
