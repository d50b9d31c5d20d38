/**
 * Warm start / fine-tune. When to use: the domains share users (or items) and the target is too
 * small to learn them well. The target model starts from the source vectors of aligned users (and
 * aligned items, if any) — copied bit-exactly — then trains in phases: first only the item table,
 * so target items learn to live in the source user space (which is what cold users keep), then
 * everything with the user table at a reduced learning rate (gradual unfreezing).
 */
import { copyParameters } from '../copy-parameters';
import { runSchedule } from '../schedule';
import { UserVectorsModel } from '../user-vectors-model';
import type { TransferContext } from '../context';
import type { Strategy } from './strategy';

export interface FineTuneOptions {
  /** Learning-rate multiplier of the user table in the second phase (0 keeps users frozen). Default 0.1. */
  userLrMultiplier?: number;
}

export function fineTune(options: FineTuneOptions = {}): Strategy {
  const userLr = options.userLrMultiplier ?? 0.1;
  return {
    name: 'fine-tune',
    summary: 'copy aligned source user/item vectors, train target items with users frozen, then unfreeze users at lr×0.1',
    run: (ctx) => ctx.memo(`fine-tune:${userLr}`, () => runFineTune(ctx, userLr)),
  };
}

async function runFineTune(ctx: TransferContext, userLr: number): Promise<UserVectorsModel> {
  const source = await ctx.sourceModel();
  const target = ctx.alignment.target;
  const model = ctx.newMf(target.numUsers, target.numItems, 3);
  copyParameters(source, model, {
    include: ['user.embedding', 'item.embedding'],
    rows: { 'user.embedding': ctx.alignment.users, 'item.embedding': ctx.alignment.items },
  });
  const validation = {
    data: ctx.split.validation,
    metric: ctx.settings.metric,
    k: ctx.settings.k,
    patience: ctx.settings.patience,
    restoreBest: true,
  };
  const phases = [{ name: 'items only', data: ctx.split.train, train: ['item.*'], fit: { validation } }];
  if (userLr > 0)
    phases.push({
      name: 'all, users slower',
      data: ctx.split.train,
      train: ['*'],
      lrMultipliers: { 'user.*': userLr },
      fit: { validation },
    } as (typeof phases)[0]);
  await runSchedule(model, phases, ctx.fitOptions());
  const has = new Uint8Array(target.numUsers);
  for (const u of ctx.alignment.users.target) has[u] = 1;
  for (let u = 0; u < has.length; u++) if (ctx.hasTrainRows[u]) has[u] = 1;
  return new UserVectorsModel(model.userEmbedding.table.data, has, model.itemEmbedding.table, ctx.popularity);
}
