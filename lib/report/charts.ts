/**
 * Inline SVG charts for reports: lines (a metric by K, a learning curve) and grouped bars with
 * error bars (a metric by slice); intervalChart (./interval-chart) draws differences with their
 * intervals. Builders return a Chart; renderReport only embeds Charts made here, so no unescaped
 * text can reach the page through a chart.
 */
import { rangeError, typeError } from '../core/validate';
import { escapeHtml } from './escape';
import { LEGEND_ROW, layoutLegend, type LegendEntry } from './legend';
import { seriesStyle } from './palette';
import { formatTick, niceTicks } from './scale';
import { finish, finite, marker, px, whisker, type Chart } from './svg';

export { isChart, type Chart } from './svg';
export { PALETTE } from './palette';

export interface Series {
  name: string;
  /** One value per x position / category; null or NaN leaves a gap. */
  values: ReadonlyArray<number | null>;
  /** ± error per value (e.g. the std over seeds), drawn as whiskers. */
  errors?: ReadonlyArray<number | null>;
  /**
   * Line charts: the index of one x position to mark for this series (a vertical line in its
   * colour and a ring on its point), e.g. the best epoch of a learning curve.
   */
  mark?: number;
}

export interface LineChartSpec {
  title: string;
  /** x positions, evenly spaced and labelled as given (e.g. the cut-offs, or epochs). */
  x: ReadonlyArray<number | string>;
  series: readonly Series[];
  xLabel?: string;
  yLabel?: string;
  /** Start the y axis at 0 (default true; learning curves of a loss may prefer false). */
  zero?: boolean;
  /** What a series' `mark` means, shown once in the legend (e.g. 'best epoch'). */
  markLabel?: string;
  /** Drawing width in px (the chart scales down to its container). Default 640. */
  width?: number;
  /** Height of the plot and its margins in px, before the legend. Default 320. */
  height?: number;
}

export interface BarChartSpec {
  title: string;
  categories: ReadonlyArray<string>;
  /** One series per bar in each group (e.g. one per model). */
  series: readonly Series[];
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

const MARGIN = { top: 34, right: 16, bottom: 58, left: 62 };

function checkSize(argument: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 10_000)
    throw rangeError(argument, `number of px in [${min}, 10000]`, value);
  return value;
}

function checkSeries(argument: string, series: unknown, length: number): readonly Series[] {
  if (!Array.isArray(series)) throw typeError(argument, 'array of { name, values }', series);
  series.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.values))
      throw typeError(`${argument}[${i}]`, '{ name: string, values: number[] }', s);
    if (s.values.length !== length) throw typeError(`${argument}[${i}].values`, `an array of ${length} values`, s.values);
    if (s.errors !== undefined && (!Array.isArray(s.errors) || s.errors.length !== length))
      throw typeError(`${argument}[${i}].errors`, `an array of ${length} errors`, s.errors);
    if (s.mark !== undefined && (!Number.isInteger(s.mark) || s.mark < 0 || s.mark >= length))
      throw rangeError(`${argument}[${i}].mark`, `an index in [0, ${length - 1}]`, s.mark);
  });
  return series as Series[];
}

/** Axes, grid, labels and the legend's place: the plot keeps its size, the legend adds rows below. */
function frame(
  spec: { title: string; xLabel?: string; yLabel?: string; width?: number; height?: number },
  lows: number[],
  highs: number[],
  zero: boolean,
  legend: readonly LegendEntry[],
) {
  const width = checkSize('spec.width', spec.width, 640, 240);
  const baseHeight = checkSize('spec.height', spec.height, 320, 160);
  const lo = Math.min(...lows, zero ? 0 : Infinity);
  const hi = Math.max(...highs, zero ? 0 : -Infinity);
  const ticks = niceTicks(Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi : 1);
  // niceTicks returns no ticks only for a range too wide or too narrow for a finite step (values
  // near ±Number.MAX_VALUE, or a subnormal span): positions then come out NaN, as they always have.
  const y0 = ticks[0] ?? Number.NaN;
  const y1 = ticks[ticks.length - 1] ?? Number.NaN;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = baseHeight - MARGIN.top - MARGIN.bottom;
  const bottom = MARGIN.top + plotH;
  const layout = layoutLegend(legend, width);
  const labelY = bottom + 36;
  const legendTop = (spec.xLabel ? labelY : bottom + 18) + LEGEND_ROW + 2;
  const height = legendTop + Math.max(layout.rows - 1, 0) * LEGEND_ROW + 10;
  const y = (v: number) => MARGIN.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<text class="title" x="${width / 2}" y="18" text-anchor="middle">${escapeHtml(spec.title)}</text>`);
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${px(y(t))}" y2="${px(y(t))}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${px(y(t) + 4)}" text-anchor="end">${escapeHtml(formatTick(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${bottom}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${bottom}" y2="${bottom}"/>`);
  if (spec.yLabel)
    parts.push(
      `<text class="label" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`,
    );
  if (spec.xLabel)
    parts.push(`<text class="label" x="${MARGIN.left + plotW / 2}" y="${labelY}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);
  return { width, height, plotW, plotH, bottom, y, parts, legend: () => layout.render(legendTop) };
}

function extent(series: readonly Series[]): { lows: number[]; highs: number[] } {
  const lows: number[] = [];
  const highs: number[] = [];
  for (const s of series) {
    s.values.forEach((v, i) => {
      if (!finite(v)) return;
      const err = s.errors?.[i];
      const e = finite(err) ? Math.abs(err) : 0;
      lows.push(v - e);
      highs.push(v + e);
    });
  }
  return { lows, highs };
}

/** One line per series over evenly spaced x positions, with optional error whiskers and marks. */
export function lineChart(spec: LineChartSpec): Chart {
  if (!spec || typeof spec.title !== 'string' || !Array.isArray(spec.x)) throw typeError('spec', '{ title, x, series }', spec);
  const series = checkSeries('spec.series', spec.series, spec.x.length);
  const styles = series.map((_, i) => seriesStyle(i, series.length));
  const { lows, highs } = extent(series);
  const entries: LegendEntry[] = series.map((s, i) => ({ name: s.name, style: styles[i]!, kind: 'line' }));
  const marked = series.some((s) => s.mark !== undefined);
  const f = frame(spec, lows, highs, spec.zero ?? true, marked && spec.markLabel ? [...entries, markEntry(spec.markLabel)] : entries);
  const n = spec.x.length;
  const xAt = (i: number) => MARGIN.left + (n === 1 ? f.plotW / 2 : 8 + (i * (f.plotW - 16)) / (n - 1));
  // Label at most ~12 positions so long epoch axes stay legible.
  const every = Math.max(1, Math.ceil(n / 12));
  spec.x.forEach((label, i) => {
    if (i % every !== 0 && i !== n - 1) return;
    f.parts.push(`<text class="tick" x="${px(xAt(i))}" y="${f.bottom + 16}" text-anchor="middle">${escapeHtml(label)}</text>`);
  });
  series.forEach((s, si) => {
    const { color, dash, marker: shape } = styles[si]!;
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (!finite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(xAt(i))} ${px(f.y(v))}`;
      pen = true;
    });
    if (d) f.parts.push(`<path class="line" stroke="${color}"${dash ? ` stroke-dasharray="${dash}"` : ''} d="${d}"/>`);
    s.values.forEach((v, i) => {
      if (!finite(v)) return;
      const e = s.errors?.[i];
      if (finite(e) && e > 0) f.parts.push(whisker(xAt(i), f.y(v - e), f.y(v + e), color));
      if (n <= 60) {
        const tip = `${s.name} @ ${spec.x[i]}: ${formatTick(v)}${finite(e) ? ` ± ${formatTick(e)}` : ''}`;
        f.parts.push(marker(shape, xAt(i), f.y(v), 3, color, tip));
      }
    });
    if (s.mark !== undefined) {
      const x = xAt(s.mark);
      const v = s.values[s.mark];
      const what = spec.markLabel ?? 'marked';
      f.parts.push(
        `<path class="mark" stroke="${color}" d="M${px(x)} ${MARGIN.top}V${px(f.bottom)}"><title>${escapeHtml(`${s.name}: ${what} at ${spec.x[s.mark]}`)}</title></path>`,
      );
      if (finite(v)) f.parts.push(marker(shape, x, f.y(v), 6, color, `${s.name}: ${what} at ${spec.x[s.mark]}: ${formatTick(v)}`, true));
    }
  });
  f.parts.push(f.legend());
  return finish(spec.title, f.width, f.height, f.parts);
}

/** The legend's explanation of marks: a dashed grey line with a ring, apart from the series. */
function markEntry(label: string): LegendEntry {
  return { name: label, style: { color: '#666', dash: '3 3', marker: 'circle', fillOpacity: 0 }, kind: 'line', note: true };
}

/** Grouped bars: one group per category, one bar per series, with ± error whiskers. */
export function barChart(spec: BarChartSpec): Chart {
  if (!spec || typeof spec.title !== 'string' || !Array.isArray(spec.categories))
    throw typeError('spec', '{ title, categories, series }', spec);
  const series = checkSeries('spec.series', spec.series, spec.categories.length);
  const styles = series.map((_, i) => seriesStyle(i, series.length));
  const { lows, highs } = extent(series);
  const f = frame(
    spec,
    lows,
    highs,
    true,
    series.map((s, i) => ({ name: s.name, style: styles[i]!, kind: 'bar' })),
  );
  const groups = spec.categories.length;
  const groupW = f.plotW / Math.max(groups, 1);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(series.length, 1));
  spec.categories.forEach((label, g) => {
    const cx = MARGIN.left + groupW * (g + 0.5);
    f.parts.push(`<text class="tick" x="${px(cx)}" y="${f.bottom + 16}" text-anchor="middle">${escapeHtml(label)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[g];
      if (!finite(v)) return;
      const { color, dash, fillOpacity } = styles[si]!;
      const x = MARGIN.left + groupW * g + groupW * 0.1 + si * barW;
      const top = Math.min(f.y(v), f.y(0));
      const h = Math.abs(f.y(v) - f.y(0));
      const e = s.errors?.[g];
      const tip = `${s.name} · ${label}: ${formatTick(v)}${finite(e) ? ` ± ${formatTick(e)}` : ''}`;
      const outline =
        fillOpacity < 1
          ? ` fill-opacity="${fillOpacity}" stroke="${color}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}`
          : '';
      f.parts.push(
        `<rect class="bar" x="${px(x)}" y="${px(top)}" width="${px(barW - 1)}" height="${px(h)}" fill="${color}"${outline}><title>${escapeHtml(tip)}</title></rect>`,
      );
      if (finite(e) && e > 0) f.parts.push(whisker(x + (barW - 1) / 2, f.y(v - e), f.y(v + e), '#333'));
    });
  });
  f.parts.push(f.legend());
  return finish(spec.title, f.width, f.height, f.parts);
}

/** What learningCurves reads from each training run: the Trainer's FitReport epochs. */
export interface TrainingLog {
  name: string;
  epochs: ReadonlyArray<{ epoch: number; loss: number; validation?: object }>;
  /** The epoch early stopping chose (FitReport.bestEpoch, 1-based; 0 or absent: none), marked on both charts. */
  bestEpoch?: number;
}

/**
 * Learning curves: the training loss per epoch, and (when the runs were validated) a validation
 * metric per epoch, one line per run, each run's best epoch marked.
 */
export function learningCurves(logs: readonly TrainingLog[], metric = 'ndcg'): Chart[] {
  if (!Array.isArray(logs as unknown)) throw typeError('logs', 'array of { name, epochs }', logs);
  logs.forEach((l, i) => {
    if (!l || typeof l.name !== 'string' || !Array.isArray(l.epochs)) throw typeError(`logs[${i}]`, '{ name, epochs }', l);
    if (l.bestEpoch !== undefined && (!Number.isInteger(l.bestEpoch) || l.bestEpoch < 0 || l.bestEpoch > l.epochs.length))
      throw rangeError(`logs[${i}].bestEpoch`, `an epoch in [0, ${l.epochs.length}] (0: none)`, l.bestEpoch);
  });
  const longest = Math.max(0, ...logs.map((l) => l.epochs.length));
  if (longest === 0) return [];
  const x = Array.from({ length: longest }, (_, i) => i + 1);
  const pad = (values: (number | null)[]) => [...values, ...new Array<null>(longest - values.length).fill(null)];
  const mark = (l: TrainingLog) => (l.bestEpoch ? { mark: l.bestEpoch - 1 } : {});
  const charts = [
    lineChart({
      title: 'Training loss by epoch',
      x,
      xLabel: 'epoch',
      yLabel: 'loss',
      zero: false,
      markLabel: 'best epoch',
      series: logs.map((l) => ({ name: l.name, values: pad(l.epochs.map((e) => e.loss)), ...mark(l) })),
    }),
  ];
  const metricOf = (e: { validation?: object }) => {
    const v = (e.validation as Record<string, unknown> | undefined)?.[metric];
    return typeof v === 'number' ? v : null;
  };
  const validated = logs.filter((l) => l.epochs.some((e) => metricOf(e) !== null));
  if (validated.length) {
    charts.push(
      lineChart({
        title: `Validation ${metric} by epoch`,
        x,
        xLabel: 'epoch',
        yLabel: metric,
        markLabel: 'best epoch',
        series: validated.map((l) => ({ name: l.name, values: pad(l.epochs.map(metricOf)), ...mark(l) })),
      }),
    );
  }
  return charts;
}
