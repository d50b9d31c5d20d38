/**
 * Option checks every trainer shares: the training data against the model's size, and the
 * validation (early-stopping) options.
 */
import { expectBoolean, expectInteger, expectOptions, expectPositiveInteger, rangeError, typeError } from '../core/validate';
import type { ValidationMetric } from './epoch-loop';
import { Interactions } from '../data/interactions';

export interface ValidationOptions {
  /** Held-out interactions. */
  data: Interactions;
  /** Metric to monitor (higher is better). Default 'recall'. */
  metric?: ValidationMetric;
  /** Cut-off. Default 10. */
  k?: number;
  /** Epochs without improvement before stopping. Default 3. */
  patience?: number;
  /** Put back the weights (and optimizer state) of the best epoch at the end. Default true. */
  restoreBest?: boolean;
}

const METRICS: readonly ValidationMetric[] = ['recall', 'ndcg', 'hit', 'mrr', 'precision'];

/** options.validation with defaults applied, or null when absent. */
export function resolveValidation(value: ValidationOptions | undefined): Required<ValidationOptions> | null {
  if (value === undefined) return null;
  const v = expectOptions('options.validation', value);
  if (!(v.data instanceof Interactions)) throw typeError('options.validation.data', 'Interactions', v.data);
  const metric = v.metric ?? 'recall';
  if (!METRICS.includes(metric)) throw rangeError('options.validation.metric', '"recall", "ndcg", "hit", "mrr" or "precision"', metric);
  return {
    data: v.data,
    metric,
    k: v.k === undefined ? 10 : expectPositiveInteger('options.validation.k', v.k),
    patience: v.patience === undefined ? 3 : expectInteger('options.validation.patience', v.patience, 0, 1_000_000),
    restoreBest: v.restoreBest === undefined ? true : expectBoolean('options.validation.restoreBest', v.restoreBest),
  };
}

/** Non-empty Interactions whose indices fit the model. */
export function checkData(model: { users: number; items: number }, data: unknown, argument: string): Interactions {
  if (!(data instanceof Interactions)) throw typeError(argument, 'Interactions', data);
  if (data.size === 0) throw rangeError(argument, 'at least one interaction', 'an empty Interactions');
  if (data.numUsers > model.users || data.numItems > model.items) {
    throw rangeError(
      argument,
      `user indices < ${model.users} and item indices < ${model.items} (the model's size)`,
      `data with ${data.numUsers} users and ${data.numItems} items`,
    );
  }
  return data;
}
