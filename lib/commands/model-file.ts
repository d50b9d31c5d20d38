/** Loading a model file for the commands that use one: the model, its ids and a ranking view. */
import * as fs from 'node:fs';
import * as readline from 'node:readline';

import { Interactions } from '../data/interactions';
import { loadInteractions, type LoadInteractionsOptions } from '../data/load-interactions';
import { Vocabulary } from '../data/vocabulary';
import type { RankingModel } from '../eval/ranking';
import { loadModel, type LoadedModel } from '../io/model-file/load';
import { MatrixFactorization } from '../models/matrix-factorization';
import type { Args } from './args';
import { requireFiles } from './input';

export interface CommandModel {
  loaded: LoadedModel;
  /** The saved ids, or decimal row numbers when the file has none. */
  users: Vocabulary;
  items: Vocabulary;
  /** Users' queries against the items' vectors (a two-tower model is encoded once). */
  ranking: RankingModel;
}

function rowIds(n: number): Vocabulary {
  return new Vocabulary(Array.from({ length: n }, (_, i) => String(i)));
}

export async function loadCommandModel(args: Args, flag = 'model'): Promise<CommandModel> {
  const file = args.string(flag);
  if (file === undefined) throw args.error(`Expected --${flag} FILE (a model saved by \`recbridge train\` or saveModel)`);
  requireFiles(args, { [flag]: file });
  const loaded = await loadModel(file, { forServing: true });
  const model = loaded.model;
  const users = loaded.vocabularies.users ?? rowIds(model.users);
  const items = loaded.vocabularies.items ?? rowIds(model.items);
  let ranking: RankingModel;
  if (model instanceof MatrixFactorization) ranking = model;
  else {
    const u = await model.encodeUsers();
    const i = await model.encodeItems();
    ranking = { users: model.users, items: model.items, encodeItems: () => i, userQuery: (row: number) => u.row(row) };
  }
  return { loaded, users, items, ranking };
}

/**
 * Interactions from a file numbered by the model's ids: rows whose user or item the model does not
 * know are left out (and counted), since the model has no row for them.
 */
export async function loadKnownInteractions(
  file: string,
  m: CommandModel,
  input: LoadInteractionsOptions,
): Promise<{ data: Interactions; dropped: number }> {
  const numUsers = m.ranking.users;
  const numItems = m.ranking.items;
  const users = new Vocabulary(m.users.toArray());
  const items = new Vocabulary(m.items.toArray());
  const all = (await loadInteractions(file, { ...input, users, items })).interactions;
  const rows: number[] = [];
  for (let r = 0; r < all.size; r++) if (all.users[r]! < numUsers && all.items[r]! < numItems) rows.push(r);
  const kept = all.subset(Int32Array.from(rows));
  return { data: new Interactions({ users: kept.users, items: kept.items, numUsers, numItems }), dropped: all.size - rows.length };
}

/** Ids, one per line (the first field of a csv/tsv line), from a file or `-` for stdin, in batches. */
export async function* idBatches(file: string, size: number): AsyncGenerator<string[]> {
  const stream = file === '-' ? process.stdin : fs.createReadStream(file);
  const lines = readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let batch: string[] = [];
  for await (const line of lines) {
    const id = line.split(/[\t,]/, 1)[0]!.trim();
    if (id === '') continue;
    batch.push(id);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
