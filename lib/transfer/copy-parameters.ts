/**
 * Warm start for any model: copy parameters by name from a source model into a target model, bit
 * for bit. Whole parameters (tower MLP layers, feature embeddings shared by both domains) copy when
 * their shapes match; id embeddings copy row by row through an alignment (only the aligned rows: the
 * rest keep their fresh initialisation). What is not copied is left as the target initialised it.
 */
import { RecbridgeError } from '../core/errors';
import type { Model } from '../models/model';
import { matchesPattern } from '../models/parameter';
import { expectOptions, rangeError, toIndexArray, typeError } from '../core/validate';
import type { RowPairs } from './align';

export interface CopyParametersOptions {
  /** Patterns of the parameter names to copy, e.g. ['item.*'] or ['user.mlp.*', 'user.features.*']. Default ['*']. */
  include?: string[];
  /** Row alignments by parameter name: copy only source row → target row pairs (id embeddings). */
  rows?: Record<string, RowPairs>;
  /** Also copy optimizer state (whole parameters only). Default false. */
  optimizerState?: boolean;
}

export interface CopiedParameter {
  name: string;
  /** Rows copied (all rows for a whole parameter). */
  rows: number;
}

export function copyParameters(source: Model, target: Model, options?: CopyParametersOptions): CopiedParameter[] {
  if (!source || typeof (source as Model).parameters !== 'function')
    throw typeError('source', 'a model (MatrixFactorization, TwoTower)', source);
  if (!target || typeof (target as Model).parameters !== 'function')
    throw typeError('target', 'a model (MatrixFactorization, TwoTower)', target);
  const o = expectOptions('options', options);
  const include = o.include ?? ['*'];
  if (!Array.isArray(include) || include.length === 0) throw typeError('options.include', 'a non-empty array of name patterns', include);
  include.forEach((pattern, k) => {
    if (typeof pattern !== 'string') throw typeError(`options.include[${k}]`, 'string pattern', pattern);
  });
  const rowOptions = expectOptions('options.rows', o.rows);
  const from = new Map(source.parameters().map((p) => [p.name, p]));
  const to = target.parameters();
  const chosen = to.filter((p) => include.some((pattern) => matchesPattern(p.name, pattern)) && from.has(p.name));
  include.forEach((pattern, k) => {
    if (!to.some((p) => matchesPattern(p.name, pattern) && from.has(p.name))) {
      throw rangeError(
        `options.include[${k}]`,
        `a pattern matching a parameter both models have (${to
          .filter((p) => from.has(p.name))
          .map((p) => p.name)
          .join(', ')})`,
        pattern,
      );
    }
  });
  for (const name of Object.keys(rowOptions)) {
    if (!chosen.some((p) => p.name === name))
      throw rangeError('options.rows', `names of copied parameters (${chosen.map((p) => p.name).join(', ')})`, name);
  }
  // Check every shape before writing anything: a half-copied model is worse than none.
  const plans = chosen.map((t) => {
    const s = from.get(t.name)!;
    const raw = rowOptions[t.name];
    const pairs = raw === undefined ? undefined : checkPairs(`options.rows.${t.name}`, raw);
    if (s.table.dim !== t.table.dim || (!pairs && s.rows !== t.rows)) {
      throw new RecbridgeError(
        'ERR_DIMENSION_MISMATCH',
        `Cannot copy ${t.name}: the source is ${s.rows} × ${s.table.dim}, the target ${t.rows} × ${t.table.dim}` +
          (pairs ? '' : ' (id embeddings of different sizes need options.rows)'),
      );
    }
    if (pairs) {
      pairs.source.forEach((r, k) => {
        if (r < 0 || r >= s.rows || pairs.target[k] < 0 || pairs.target[k] >= t.rows)
          throw rangeError(`options.rows.${t.name}`, `rows within ${s.rows} (source) and ${t.rows} (target)`, `${r} → ${pairs.target[k]}`);
      });
    }
    return { s, t, pairs };
  });
  return plans.map(({ s, t, pairs }) => {
    const dim = t.table.dim;
    if (pairs) {
      pairs.source.forEach((r, k) => t.table.data.set(s.table.data.subarray(r * dim, (r + 1) * dim), pairs.target[k] * dim));
      return { name: t.name, rows: pairs.source.length };
    }
    t.table.data.set(s.table.data);
    if (o.optimizerState && s.state) t.optimizerState(s.state.kind).set(s.state.values);
    return { name: t.name, rows: t.rows };
  });
}

function checkPairs(argument: string, value: unknown): RowPairs {
  const v = expectOptions(argument, value as RowPairs);
  if (v.source === undefined || v.target === undefined) throw typeError(argument, '{ source, target } row arrays', value);
  const source = toIndexArray(`${argument}.source`, v.source, 2 ** 31 - 1);
  const target = toIndexArray(`${argument}.target`, v.target, 2 ** 31 - 1);
  if (source.length !== target.length)
    throw rangeError(argument, 'source and target arrays of equal length', `${source.length} and ${target.length}`);
  return { source, target };
}
