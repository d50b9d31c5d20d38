/** Strategies by name, as the API and the CLI accept them. */
import { alsTransfer } from './als';
import { bridge } from './bridge';
import { contentToCf } from './content';
import { fineTune } from './fine-tune';
import { hybrid } from './hybrid';
import { joint } from './joint';
import { mapping } from './mapping';
import { neighbours } from './neighbours';
import type { Strategy } from './strategy';
import { popularity, targetOnly } from './target-only';

export type { CustomEvaluation, Strategy } from './strategy';

/** Baselines every lift report includes (the neighbourhood model is the bar learned strategies must clear). */
export const BASELINES: readonly Strategy[] = [popularity, targetOnly, neighbours];

const FACTORIES: Record<string, () => Strategy> = {
  'fine-tune': () => fineTune(),
  joint: () => joint(),
  'mapping-linear': () => mapping({ kind: 'linear' }),
  'mapping-mlp': () => mapping({ kind: 'mlp' }),
  bridge: () => bridge(),
  als: () => alsTransfer(),
  content: () => contentToCf(),
  hybrid: () => hybrid,
  // Always in the report as a baseline; accepted by name so it can be asked for explicitly.
  neighbours: () => neighbours,
};

export const STRATEGY_NAMES: readonly string[] = Object.keys(FACTORIES);

export function strategyByName(name: string): Strategy | undefined {
  return Object.hasOwn(FACTORIES, name) ? FACTORIES[name]() : undefined;
}

export { alsTransfer, bridge, contentToCf, fineTune, hybrid, joint, mapping, neighbours, popularity, targetOnly };
