/** The JSON result of `recbridge evaluate` (written by evaluate.ts, rendered by evaluate-output.ts). */
import type { RankingMetrics } from '../eval/ranking';
import type { SampledMetrics } from '../eval/sampled';
import type { summarize } from '../eval/summarize';

/** Everything one seed produced for one model. */
export interface ModelRun {
  seed: number;
  all: RankingMetrics;
  slices: Record<string, RankingMetrics>;
  sampled?: SampledMetrics;
  training?: { epochs: number; bestEpoch: number; stoppedEarly: boolean; seconds: number };
}

export interface EvaluateResult {
  dataset: string;
  protocol: string;
  users: number;
  items: number;
  ks: number[];
  seeds: number[];
  /** Slice name → users per seed (activity buckets by training interactions). */
  slices: Record<string, number[]>;
  models: Record<string, { runs: ModelRun[]; summary: ReturnType<typeof summarize<Omit<ModelRun, 'seed'>>>['summary'] }>;
}
