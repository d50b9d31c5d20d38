/**
 * How series look: colour, dash pattern and marker. Colours come from Paul Tol's qualitative
 * schemes ("Colour Schemes", SRON technical note SRON/EPS/TN/09-002, 2012), which give, for each
 * count from 1 to 12, the set of colours that stay most distinct from each other, including for
 * the common colour-vision deficiencies: a chart of n ≤ 12 series uses the n-colour set. Past 12 the
 * 12 colours repeat, and each round of 12 changes the dash pattern, the marker shape and (for bars)
 * the fill, so no two series of a chart look alike.
 */

/** Tol's schemes by count: SCHEMES[n - 1] has n colours. */
const SCHEMES: readonly (readonly string[])[] = [
  ['#4477AA'],
  ['#4477AA', '#CC6677'],
  ['#4477AA', '#DDCC77', '#CC6677'],
  ['#4477AA', '#117733', '#DDCC77', '#CC6677'],
  ['#332288', '#88CCEE', '#117733', '#DDCC77', '#CC6677'],
  ['#332288', '#88CCEE', '#117733', '#DDCC77', '#CC6677', '#AA4499'],
  ['#332288', '#88CCEE', '#44AA99', '#117733', '#DDCC77', '#CC6677', '#AA4499'],
  ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#CC6677', '#AA4499'],
  ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#CC6677', '#882255', '#AA4499'],
  ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#661100', '#CC6677', '#882255', '#AA4499'],
  ['#332288', '#6699CC', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#661100', '#CC6677', '#882255', '#AA4499'],
  ['#332288', '#6699CC', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#661100', '#CC6677', '#AA4466', '#882255', '#AA4499'],
];

/** Tol's 12-colour qualitative scheme (the colours every chart draws from). */
export const PALETTE: readonly string[] = SCHEMES[11]!;

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';

export interface SeriesStyle {
  color: string;
  /** stroke-dasharray of lines (and of bar outlines), or null for solid. */
  dash: string | null;
  marker: MarkerShape;
  /** Bars: fill opacity (1 solid; lower values are drawn with an outline in the colour). */
  fillOpacity: number;
}

const DASHES = [null, '7 4', '2 3', '10 3 2 3'] as const;
const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond'];
const FILLS = [1, 0.35, 0, 0.65] as const;

/** The look of series `index` in a chart of `count` series. */
export function seriesStyle(index: number, count: number): SeriesStyle {
  const scheme = SCHEMES[Math.min(Math.max(count, 1), SCHEMES.length) - 1]!;
  const round = Math.floor(index / scheme.length) % DASHES.length;
  return {
    color: scheme[index % scheme.length]!,
    dash: DASHES[round] ?? null,
    marker: MARKERS[round] ?? 'circle',
    fillOpacity: FILLS[round] ?? 1,
  };
}
