/**
 * The flags every command that reads interaction files shares (format, named columns, header,
 * --min-value), and their translation to loadInteractions options.
 */
import * as fs from 'node:fs';

import type { LoadInteractionsOptions } from '../data/load-interactions';
import type { Args, FlagSpec } from './args';

export const INPUT_FORMATS = ['recbole', 'tsv', 'csv', 'movielens', 'whitespace'] as const;

export const INPUT_FLAGS: Record<string, FlagSpec> = {
  format: { value: 'F', help: `input format: ${INPUT_FORMATS.join(', ')} (default: from the file name)` },
  header: { type: 'boolean', help: 'the first line names the columns (default: detected for csv/tsv)' },
  'no-header': { type: 'boolean', help: 'the first line is data, even if it looks like a header' },
  delimiter: { value: 'D', help: "field delimiter: ',' ';' '|' tab (default: from the format; detected for csv)" },
  'user-col': { value: 'NAME|N', help: 'column of the user id: a header name, or a 0-based index (default user_id / 0)' },
  'item-col': { value: 'NAME|N', help: 'column of the item id (default item_id / 1)' },
  'value-col': { value: 'NAME|N', help: 'column of the rating or weight (default rating / 2 when present)' },
  'time-col': { value: 'NAME|N', help: 'column of the timestamp (default timestamp when the header has one)' },
  'min-value': { value: 'X', help: 'keep rows whose value is ≥ X: ratings → implicit feedback (e.g. 4)' },
};

function column(args: Args, name: string): number | string | undefined {
  const raw = args.string(name);
  if (raw === undefined) return undefined;
  if (raw === '') throw args.error(`Expected a column name or index for --${name}`);
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** loadInteractions options from the shared input flags. */
export function inputOptions(args: Args): LoadInteractionsOptions {
  const opts: LoadInteractionsOptions = {};
  const format = args.choice('format', INPUT_FORMATS);
  if (format !== undefined) opts.format = format;
  if (args.bool('header') && args.bool('no-header')) throw args.error('--header and --no-header contradict each other');
  if (args.bool('header')) opts.header = true;
  if (args.bool('no-header')) opts.header = false;
  const delimiter = args.string('delimiter');
  if (delimiter !== undefined) {
    const d = delimiter === 'tab' || delimiter === '\\t' ? '\t' : delimiter;
    if (d !== ',' && d !== '\t' && d !== ';' && d !== '|')
      throw args.error(`Expected one of , ; | tab for --delimiter but received ${JSON.stringify(delimiter)}`);
    opts.delimiter = d;
  }
  const user = column(args, 'user-col');
  const item = column(args, 'item-col');
  const value = column(args, 'value-col');
  const time = column(args, 'time-col');
  if (user !== undefined) opts.userColumn = user;
  if (item !== undefined) opts.itemColumn = item;
  if (value !== undefined) opts.valueColumn = value;
  if (time !== undefined) opts.timeColumn = time;
  const minValue = args.number('min-value', -Number.MAX_VALUE, Number.MAX_VALUE);
  if (minValue !== undefined) opts.minValue = minValue;
  return opts;
}

/** A usage error naming the flag when an input file is missing (before any work starts). */
export function requireFiles(args: Args, files: Record<string, string | undefined>): void {
  for (const [flag, file] of Object.entries(files)) {
    if (file === undefined || file === '-') continue;
    // Upper-case keys name positional arguments (FILE), the others flags.
    const what = /^[A-Z]/.test(flag) ? flag : `--${flag}`;
    if (!fs.existsSync(file)) throw args.error(`No such file for ${what}: ${file}`);
    if (fs.statSync(file).isDirectory()) throw args.error(`Expected a file for ${what} but ${file} is a directory`);
  }
}
