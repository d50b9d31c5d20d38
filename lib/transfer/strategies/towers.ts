/**
 * Two-tower strategies (lib/transfer/tower-transfer.ts). When to use:
 * - towers-shared-items: items carry content both domains describe alike (genres, year, text
 *   embeddings) or the catalogues overlap. The item tower learnt on the source maps target items into
 *   the space of source users, so aligned users start there and items no one has bought yet are
 *   placed by their content.
 * - towers-shared-users: users overlap. The user tower learnt on the source serves cold users; target
 *   items (with their content, if any) learn to live in its space.
 */
import type { Strategy } from './strategy';
import { checkSharedItems, towerTransferModels, type TowerKind, type TowerTransferOptions } from '../tower-transfer';
import { UserVectorsModel } from '../user-vectors-model';
import type { TransferContext } from '../context';

export function towersSharedItems(options?: TowerTransferOptions): Strategy {
  return towerStrategy(
    'shared-items',
    'two towers, item tower (content, shared ids) pre-trained on the source and shared; target user tower trained with it frozen, then lr×0.1',
    options,
  );
}

export function towersSharedUsers(options?: TowerTransferOptions): Strategy {
  return towerStrategy(
    'shared-users',
    'two towers, user tower pre-trained on the source and shared by aligned users; target item tower trained with it frozen, then lr×0.1',
    options,
  );
}

function towerStrategy(kind: TowerKind, summary: string, options: TowerTransferOptions | undefined): Strategy {
  return {
    name: `towers-${kind}`,
    summary,
    run: async (ctx) => servingModel(ctx, (await towerTransferModels(ctx, kind, options)).target),
    check: (alignment) => {
      if (kind === 'shared-items') checkSharedItems(alignment, options);
    },
  };
}

/** Target users with a vector (trained, or aligned to a source user) scored against every encoded target item. */
async function servingModel(
  ctx: TransferContext,
  model: Awaited<ReturnType<typeof towerTransferModels>>['target'],
): Promise<UserVectorsModel> {
  const threads = ctx.settings.threads ?? 1;
  const users = await model.encode('user', threads);
  const items = await model.encode('item', threads);
  const has = new Uint8Array(ctx.alignment.target.numUsers);
  for (let u = 0; u < has.length; u++) has[u] = ctx.hasTrainRows[u] || ctx.alignment.userToSource[u] >= 0 ? 1 : 0;
  return new UserVectorsModel(users.data, has, items, ctx.popularity);
}
