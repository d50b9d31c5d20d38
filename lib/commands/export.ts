/**
 * `recbridge export`: a model file's vectors for a vector database (JSON Lines, CSV, .npy with an
 * id list) or a part of it as ONNX for another runtime.
 */
import { EmbeddingTable } from '../core/table';
import { exportVectors } from '../io/export-vectors';
import { writeIdList } from '../io/id-list';
import { writeNpy } from '../io/numpy/write-npy';
import { exportOnnx } from '../io/onnx/export';
import type { Args, CommandSpec } from './args';
import { loadCommandModel } from './model-file';
import { toPathOrStdout } from './output';

const FORMATS = ['jsonl', 'csv', 'npy', 'onnx'] as const;
const PARTS = ['item-tower', 'user-tower', 'scoring'] as const;

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'vectors as JSONL/CSV/npy for a vector database, or the model as ONNX',
  synopsis: '--model FILE --to jsonl|csv|npy|onnx --out FILE [options]',
  flags: {
    model: { value: 'FILE', help: 'a model file' },
    to: { value: 'F', help: `${FORMATS.join(', ')} (default: from --out's extension)` },
    out: { value: 'FILE', help: 'where to write (- for stdout)' },
    side: { value: 'S', help: 'vectors of items (default) or users' },
    ids: { value: 'FILE', help: 'npy: also write the row ids, one per line' },
    part: { value: 'P', help: `onnx: ${PARTS.join(', ')} (default item-tower; scoring = top-K over every item)` },
    k: { value: 'K', help: 'onnx scoring: results per query (default 10)' },
  },
  notes: `Item vectors are what the model scores with (an item bias is an extra column, matched by a 1
in the user vectors), so dot products of exported users and items rank as the model does.`,
  run,
};

function formatOf(args: Args, out: string): (typeof FORMATS)[number] {
  const given = args.choice('to', FORMATS);
  if (given) return given;
  const ext = /\.(jsonl|json|ndjson|csv|npy|onnx)$/i.exec(out)?.[1]?.toLowerCase();
  if (ext === 'json' || ext === 'ndjson') return 'jsonl';
  if (ext) return ext as (typeof FORMATS)[number];
  throw args.error(`Give --to ${FORMATS.join('|')} (the extension of --out ${JSON.stringify(out)} does not say)`);
}

async function run(args: Args): Promise<number> {
  const out = args.string('out');
  if (out === undefined) throw args.error('Expected --out FILE (or - for stdout)');
  const to = formatOf(args, out);
  const side = args.choice('side', ['items', 'users'] as const) ?? 'items';
  if (to === 'onnx' && args.has('side')) throw args.error('--side is for vectors; ONNX exports --part');
  if (to !== 'onnx' && (args.has('part') || args.has('k'))) throw args.error('--part and --k go with --to onnx');
  if (to !== 'npy' && args.has('ids')) throw args.error('--ids goes with --to npy (jsonl and csv carry the ids)');
  const m = await loadCommandModel(args);
  let bytes: number;
  if (to === 'onnx') {
    const part = args.choice('part', PARTS) ?? 'item-tower';
    const k = args.int('k', 1, 100_000);
    bytes = await toPathOrStdout(out, (file) => exportOnnx(file, m.loaded.model, { part, ...(k ? { k } : {}) }));
  } else {
    const table = side === 'items' ? m.ranking.encodeItems() : usersTable(m.ranking);
    const ids = side === 'items' ? m.items : m.users;
    if (to === 'npy') {
      bytes = await toPathOrStdout(out, (file) => writeNpy(file, table));
      const idsFile = args.string('ids');
      if (idsFile) await writeIdList(idsFile, ids);
    } else bytes = (await toPathOrStdout(out, (file) => exportVectors(file, table, { format: to, ids }))).bytes;
  }
  if (out !== '-' && !args.bool('quiet')) console.error(`wrote ${out} (${to}, ${(bytes / 2 ** 20).toFixed(2)} MiB)`);
  return 0;
}

function usersTable(ranking: { users: number; userQuery(u: number): Float32Array }): EmbeddingTable {
  const first = ranking.userQuery(0);
  const table = EmbeddingTable.create(ranking.users, first.length);
  for (let u = 0; u < ranking.users; u++) table.data.set(ranking.userQuery(u), u * first.length);
  return table;
}
