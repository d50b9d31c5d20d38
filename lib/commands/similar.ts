/** `recbridge similar`: the items most similar to given items (cosine over the model's item vectors). */
import { csvField } from '../io/export-vectors';
import { rangeError } from '../core/validate';
import { Recommender } from '../serving/recommender';
import type { Args, CommandSpec } from './args';
import { requireFiles } from './input';
import { idBatches, loadCommandModel } from './model-file';
import { openWriter } from './output';

export const similar: CommandSpec = {
  name: 'similar',
  summary: 'the items most similar to given items (cosine over item vectors) → JSONL or CSV',
  synopsis: '--model FILE (--items FILE | --items - | ITEM...) [options]',
  positionals: ['ITEM...'],
  flags: {
    model: { value: 'FILE', help: 'a model file' },
    items: { value: 'FILE', help: 'item ids, one per line; - reads stdin' },
    k: { value: 'K', help: 'similar items per item (default 10)' },
    format: { value: 'F', help: 'jsonl (default) or csv (item,rank,similar,score)' },
    out: { value: 'FILE', help: 'where to write (default - : stdout)' },
  },
  run,
};

async function run(args: Args): Promise<number> {
  const itemsFile = args.string('items');
  if (itemsFile !== undefined && args.positionals.length) throw args.error('Give items either with --items or as arguments, not both');
  if (itemsFile === undefined && args.positionals.length === 0)
    throw args.error('Expected items: --items FILE, --items - (stdin) or ids as arguments');
  requireFiles(args, { items: itemsFile });
  const k = args.int('k', 1, 100_000) ?? 10;
  const format = args.choice('format', ['jsonl', 'csv'] as const) ?? 'jsonl';
  const m = await loadCommandModel(args);
  const recommender = await Recommender.create(m.loaded, { users: m.users, items: m.items });
  const writer = openWriter(args.string('out') ?? '-');
  const given = args.positionals;
  const batches =
    itemsFile !== undefined
      ? idBatches(itemsFile, 1024)
      : (async function* () {
          yield given;
        })();
  try {
    if (format === 'csv') await writer.write('item,rank,similar,score\n');
    for await (const items of batches) {
      let text = '';
      for (const item of items) {
        if (!m.items.has(item)) throw rangeError('item', `an item id the model knows (${m.items.size} items)`, item);
        const r = recommender.similarItems(item, k);
        if (format === 'jsonl')
          text += `${JSON.stringify({ item, items: r.items, scores: Array.from(r.scores, (x) => Number(x.toPrecision(7))) })}\n`;
        else
          r.items.forEach(
            (s, rank) => (text += `${csvField(item)},${rank + 1},${csvField(s)},${Number(r.scores[rank]!.toPrecision(7))}\n`),
          );
      }
      await writer.write(text);
    }
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writer.close();
  return 0;
}
