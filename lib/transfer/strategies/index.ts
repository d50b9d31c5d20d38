/** Strategies by name, as the API and the CLI accept them. */
import { alsTransfer } from './als';
import { bridge } from './bridge';
import { contentToCf } from './content';
import { auto } from './auto';
import { ease, easeCross } from './ease-cross';
import { fineTune } from './fine-tune';
import { fusion } from './fusion';
import { graph } from './graph';
import { hybrid } from './hybrid';
import { joint } from './joint';
import { mapping } from './mapping';
import { neighbours } from './neighbours';
import type { Strategy } from './strategy';
import { popularity, targetOnly } from './target-only';
import { towersSharedItems, towersSharedUsers } from './towers';

export type { CustomEvaluation, Strategy } from './strategy';
export type { EaseCrossOptions } from './ease-cross';
export type { AutoModel, AutoSelection } from './auto';
export type { FusedEvaluation, FusionOptions } from './fusion';

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
  graph: () => graph(),
  hybrid: () => hybrid,
  'ease-cross': () => easeCross(),
  ease: () => ease(),
  'towers-shared-items': () => towersSharedItems(),
  'towers-shared-users': () => towersSharedUsers(),
  fusion: () => fusion(),
  // Always in the report as a baseline; accepted by name so it can be asked for explicitly.
  neighbours: () => neighbours,
};

export const STRATEGY_NAMES: readonly string[] = Object.keys(FACTORIES);

export function strategyByName(name: string): Strategy | undefined {
  return Object.hasOwn(FACTORIES, name) ? FACTORIES[name]() : undefined;
}

export {
  alsTransfer,
  auto,
  bridge,
  contentToCf,
  ease,
  easeCross,
  fineTune,
  fusion,
  graph,
  hybrid,
  joint,
  mapping,
  neighbours,
  popularity,
  targetOnly,
  towersSharedItems,
  towersSharedUsers,
};
