/**
 * `recbridge recommend`: top-K for many users from a model file, streamed in batches from a file
 * or stdin to JSONL or CSV, with each user's seen items (--seen) excluded.
 */
import { csvField } from '../io/export-vectors';
import { rangeError } from '../core/validate';
import { Recommender, type Recommendation } from '../serving/recommender';
import type { Args, CommandSpec } from './args';
import { INPUT_FLAGS, INPUT_FORMATS, inputOptions, requireFiles } from './input';
import { idBatches, loadCommandModel, loadKnownInteractions } from './model-file';
import { openWriter } from './output';
import { ProgressReporter } from './progress';

const FORMATS = ['jsonl', 'csv'] as const;

export const recommend: CommandSpec = {
  name: 'recommend',
  summary: 'top-K items for users from a model file → JSONL or CSV',
  synopsis: '--model FILE (--users FILE | --users - | USER...) [options]',
  positionals: ['USER...'],
  flags: {
    model: { value: 'FILE', help: 'a model file (recbridge train, saveModel)' },
    users: { value: 'FILE', help: 'user ids, one per line (the first field of csv/tsv lines); - reads stdin' },
    k: { value: 'K', help: 'items per user (default 10)' },
    seen: { value: 'FILE', help: 'interactions whose items are excluded for their user (e.g. the training file)' },
    exclude: { value: 'FILE', help: 'item ids never recommended, one per line' },
    allow: { value: 'FILE', help: 'only these item ids are candidates, one per line' },
    format: { value: 'F', help: 'jsonl (default) or csv (user,rank,item,score)' },
    out: { value: 'FILE', help: 'where to write (default - : stdout)' },
    batch: { value: 'N', help: 'users per batch (default 1024)' },
    quantize: { value: 'Q', help: 'item table for scoring: f32 (default, exact), bf16, int8' },
    fallback: { value: 'F', help: 'users the model does not know: popularity (the default with --seen) or error (the default without)' },
    threads: { value: 'T', help: 'threads per batch (default: all cores)' },
    quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
    'seen-format': { value: 'F', help: 'format of the --seen file (see --header and the column flags)' },
    ...Object.fromEntries(Object.entries(INPUT_FLAGS).filter(([k]) => k !== 'format')),
  },
  notes: 'The column flags (--user-col, --item-col, …) describe the --seen file.',
  run,
};

async function run(args: Args): Promise<number> {
  const usersFile = args.string('users');
  if (usersFile !== undefined && args.positionals.length) throw args.error('Give users either with --users or as arguments, not both');
  if (usersFile === undefined && args.positionals.length === 0)
    throw args.error('Expected users: --users FILE, --users - (stdin) or ids as arguments');
  requireFiles(args, { users: usersFile, seen: args.string('seen'), exclude: args.string('exclude'), allow: args.string('allow') });
  const k = args.int('k', 1, 100_000) ?? 10;
  const batch = args.int('batch', 1, 1_000_000) ?? 1024;
  const format = args.choice('format', FORMATS) ?? 'jsonl';
  const quantize = args.choice('quantize', ['f32', 'bf16', 'int8'] as const);
  const fallbackFlag = args.choice('fallback', ['popularity', 'error'] as const);
  if (fallbackFlag === 'popularity' && !args.has('seen'))
    throw args.error('--fallback popularity counts popularity in --seen FILE: give the training interactions with --seen');
  // Without interactions there is no popularity to fall back on: unknown users are an error.
  const fallback = fallbackFlag ?? (args.has('seen') ? 'popularity' : 'error');
  const threads = args.int('threads', 1, 256);
  const seenFormat = args.choice('seen-format', INPUT_FORMATS);
  const out = args.string('out') ?? '-';
  const progress = new ProgressReporter({ quiet: args.bool('quiet') });

  const m = await loadCommandModel(args);
  const seenFile = args.string('seen');
  const seen = seenFile
    ? await loadKnownInteractions(seenFile, m, { ...inputOptions(args), ...(seenFormat ? { format: seenFormat } : {}) })
    : null;
  if (seen?.dropped) progress.log(`--seen: ${seen.dropped} rows of users or items the model does not know left out`);
  const recommender = await Recommender.create(m.loaded, {
    ...(seen ? { seen: seen.data } : {}),
    ...(quantize ? { quantize } : {}),
    fallback,
    users: m.users,
    items: m.items,
  });
  const ids = async (flag: string) => {
    const file = args.string(flag);
    if (file === undefined) return undefined;
    const all: string[] = [];
    for await (const b of idBatches(file, 65_536)) all.push(...b);
    return all;
  };
  const exclude = await ids('exclude');
  const allow = await ids('allow');
  const writer = openWriter(out);
  if (format === 'csv') await writer.write('user,rank,item,score\n');
  let done = 0;
  let unknown = 0;
  progress.start('recommend', 0);
  const given = args.positionals;
  const source =
    usersFile !== undefined
      ? idBatches(usersFile, batch)
      : (async function* () {
          for (let i = 0; i < given.length; i += batch) yield given.slice(i, i + batch);
        })();
  try {
    for await (const users of source) {
      let recs: Recommendation[];
      try {
        recs = await recommender.recommendBatch(users, k, {
          ...(exclude ? { exclude } : {}),
          ...(allow ? { allow } : {}),
          ...(threads ? { threads } : {}),
        });
      } catch (err) {
        const e = err as { code?: string; argument?: string; message: string };
        if (fallback === 'error' && e.argument?.startsWith('users[')) {
          const at = Number(/\[(\d+)\]/.exec(e.argument)?.[1]);
          throw rangeError(
            'user',
            `a user id the model knows${args.has('seen') ? ' (--fallback error)' : '; with --seen FILE, users the model does not know get the most popular items'}`,
            users[at],
          );
        }
        throw err;
      }
      await writer.write(render(users, recs, format));
      for (const r of recs) if (r.strategy === 'popularity') unknown++;
      done += users.length;
      progress.update(done, 'users done');
    }
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writer.close();
  progress.done();
  progress.log(
    `${done} users${unknown ? `, ${unknown} not in the model (recommended by popularity)` : ''}${out !== '-' ? `; wrote ${out}` : ''}`,
  );
  return 0;
}

function render(users: string[], recs: Recommendation[], format: 'jsonl' | 'csv'): string {
  let text = '';
  recs.forEach((r, i) => {
    const user = users[i]!;
    if (format === 'jsonl') {
      text += `${JSON.stringify({ user, items: r.items, scores: Array.from(r.scores, (x) => Number(x.toPrecision(7))), strategy: r.strategy })}\n`;
    } else {
      r.items.forEach((item, rank) => {
        text += `${csvField(user)},${rank + 1},${csvField(item)},${Number(r.scores[rank]!.toPrecision(7))}\n`;
      });
    }
  });
  return text;
}
