/**
 * Inline SVG charts for reports: lines (a metric by K, a learning curve) and grouped bars with
 * error bars (a metric by slice). Builders return a Chart; renderReport only embeds Charts made
 * here, so no unescaped text can reach the page through a chart.
 */
import { typeError } from '../core/validate';
import { escapeHtml } from './escape';
import { formatTick, niceTicks } from './scale';

export interface Series {
  name: string;
  /** One value per x position / category; null or NaN leaves a gap. */
  values: ReadonlyArray<number | null>;
  /** ± error per value (e.g. the std over seeds), drawn as whiskers. */
  errors?: ReadonlyArray<number | null>;
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
  width?: number;
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

/** An SVG chart ready for renderReport. */
export interface Chart {
  readonly kind: 'chart';
  readonly title: string;
  readonly svg: string;
}

const built = new WeakSet<Chart>();

/** Whether `value` came from one of the builders here (renderReport embeds nothing else). */
export function isChart(value: unknown): value is Chart {
  return typeof value === 'object' && value !== null && built.has(value as Chart);
}

/** Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

const MARGIN = { top: 34, right: 16, bottom: 58, left: 62 };

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkSeries(argument: string, series: unknown, length: number): readonly Series[] {
  if (!Array.isArray(series)) throw typeError(argument, 'array of { name, values }', series);
  series.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.values))
      throw typeError(`${argument}[${i}]`, '{ name: string, values: number[] }', s);
    if (s.values.length !== length) throw typeError(`${argument}[${i}].values`, `an array of ${length} values`, s.values);
  });
  return series as Series[];
}

function frame(
  spec: { title: string; xLabel?: string; yLabel?: string; width?: number; height?: number },
  lows: number[],
  highs: number[],
  zero: boolean,
) {
  const width = spec.width ?? 640;
  const height = spec.height ?? 320;
  const lo = Math.min(...lows, zero ? 0 : Infinity);
  const hi = Math.max(...highs, zero ? 0 : -Infinity);
  const ticks = niceTicks(Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi : 1);
  // niceTicks returns no ticks only for a range too wide or too narrow for a finite step (values
  // near ±Number.MAX_VALUE, or a subnormal span): positions then come out NaN, as they always have.
  const y0 = ticks[0] ?? Number.NaN;
  const y1 = ticks[ticks.length - 1] ?? Number.NaN;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const y = (v: number) => MARGIN.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<text class="title" x="${width / 2}" y="18" text-anchor="middle">${escapeHtml(spec.title)}</text>`);
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/>`);
    parts.push(
      `<text class="tick" x="${MARGIN.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(formatTick(t))}</text>`,
    );
  }
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}"/>`);
  if (spec.yLabel)
    parts.push(
      `<text class="label" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`,
    );
  if (spec.xLabel)
    parts.push(
      `<text class="label" x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`,
    );
  return { width, height, plotW, plotH, y, parts };
}

function legend(series: readonly Series[], width: number, height: number): string {
  let x = MARGIN.left;
  const y = height - 26;
  return series
    .map((s, i) => {
      const item = `<g class="legend"><rect x="${x}" y="${y - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y}">${escapeHtml(s.name)}</text></g>`;
      x += 24 + Math.min(s.name.length, 40) * 7;
      return x > width ? '' : item;
    })
    .join('');
}

function whisker(x: number, lo: number, hi: number, color: string): string {
  return `<path class="err" stroke="${color}" d="M${x.toFixed(1)} ${lo.toFixed(1)}V${hi.toFixed(1)}M${(x - 4).toFixed(1)} ${lo.toFixed(1)}h8M${(x - 4).toFixed(1)} ${hi.toFixed(1)}h8"/>`;
}

function finish(title: string, width: number, height: number, parts: string[]): Chart {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
  const chart: Chart = Object.freeze({ kind: 'chart' as const, title, svg });
  built.add(chart);
  return chart;
}

function extent(series: readonly Series[]): { lows: number[]; highs: number[] } {
  const lows: number[] = [];
  const highs: number[] = [];
  for (const s of series) {
    s.values.forEach((v, i) => {
      if (!finite(v)) return;
      const e = finite(s.errors?.[i]) ? Math.abs(s.errors![i]!) : 0;
      lows.push(v - e);
      highs.push(v + e);
    });
  }
  return { lows, highs };
}

/** One line per series over evenly spaced x positions, with optional error whiskers. */
export function lineChart(spec: LineChartSpec): Chart {
  if (!spec || typeof spec.title !== 'string' || !Array.isArray(spec.x)) throw typeError('spec', '{ title, x, series }', spec);
  const series = checkSeries('spec.series', spec.series, spec.x.length);
  const { lows, highs } = extent(series);
  const f = frame(spec, lows, highs, spec.zero ?? true);
  const n = spec.x.length;
  const xAt = (i: number) => MARGIN.left + (n === 1 ? f.plotW / 2 : 8 + (i * (f.plotW - 16)) / (n - 1));
  // Label at most ~12 positions so long epoch axes stay legible.
  const every = Math.max(1, Math.ceil(n / 12));
  spec.x.forEach((label, i) => {
    if (i % every !== 0 && i !== n - 1) return;
    f.parts.push(
      `<text class="tick" x="${xAt(i).toFixed(1)}" y="${MARGIN.top + f.plotH + 16}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!; // si ≥ 0, so the index is in range
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (!finite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${xAt(i).toFixed(1)} ${f.y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) f.parts.push(`<path class="line" stroke="${color}" d="${d}"/>`);
    s.values.forEach((v, i) => {
      if (!finite(v)) return;
      const e = s.errors?.[i];
      if (finite(e) && e > 0) f.parts.push(whisker(xAt(i), f.y(v - e), f.y(v + e), color));
      const tip = `${s.name} @ ${spec.x[i]}: ${formatTick(v)}${finite(e) ? ` ± ${formatTick(e)}` : ''}`;
      if (n <= 60)
        f.parts.push(
          `<circle cx="${xAt(i).toFixed(1)}" cy="${f.y(v).toFixed(1)}" r="3" fill="${color}"><title>${escapeHtml(tip)}</title></circle>`,
        );
    });
  });
  f.parts.push(legend(series, f.width, f.height));
  return finish(spec.title, f.width, f.height, f.parts);
}

/** Grouped bars: one group per category, one bar per series, with ± error whiskers. */
export function barChart(spec: BarChartSpec): Chart {
  if (!spec || typeof spec.title !== 'string' || !Array.isArray(spec.categories))
    throw typeError('spec', '{ title, categories, series }', spec);
  const series = checkSeries('spec.series', spec.series, spec.categories.length);
  const { lows, highs } = extent(series);
  const f = frame(spec, lows, highs, true);
  const groups = spec.categories.length;
  const groupW = f.plotW / Math.max(groups, 1);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(series.length, 1));
  spec.categories.forEach((label, g) => {
    const cx = MARGIN.left + groupW * (g + 0.5);
    f.parts.push(
      `<text class="tick" x="${cx.toFixed(1)}" y="${MARGIN.top + f.plotH + 16}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
    series.forEach((s, si) => {
      const v = s.values[g];
      if (!finite(v)) return;
      const color = PALETTE[si % PALETTE.length];
      const x = MARGIN.left + groupW * g + groupW * 0.1 + si * barW;
      const top = Math.min(f.y(v), f.y(0));
      const h = Math.abs(f.y(v) - f.y(0));
      const e = s.errors?.[g];
      const tip = `${s.name} · ${label}: ${formatTick(v)}${finite(e) ? ` ± ${formatTick(e)}` : ''}`;
      f.parts.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${escapeHtml(tip)}</title></rect>`,
      );
      if (finite(e) && e > 0) f.parts.push(whisker(x + (barW - 1) / 2, f.y(v - e), f.y(v + e), '#333'));
    });
  });
  f.parts.push(legend(series, f.width, f.height));
  return finish(spec.title, f.width, f.height, f.parts);
}

/** What learningCurves reads from each training run: the Trainer's FitReport epochs. */
export interface TrainingLog {
  name: string;
  epochs: ReadonlyArray<{ epoch: number; loss: number; validation?: object }>;
}

/**
 * Learning curves: the training loss per epoch, and (when the runs were validated) a validation
 * metric per epoch, one line per run.
 */
export function learningCurves(logs: readonly TrainingLog[], metric = 'ndcg'): Chart[] {
  if (!Array.isArray(logs as unknown)) throw typeError('logs', 'array of { name, epochs }', logs);
  const longest = Math.max(0, ...logs.map((l) => l.epochs.length));
  if (longest === 0) return [];
  const x = Array.from({ length: longest }, (_, i) => i + 1);
  const pad = (values: (number | null)[]) => [...values, ...new Array(longest - values.length).fill(null)];
  const charts = [
    lineChart({
      title: 'Training loss by epoch',
      x,
      xLabel: 'epoch',
      yLabel: 'loss',
      zero: false,
      series: logs.map((l) => ({ name: l.name, values: pad(l.epochs.map((e) => e.loss)) })),
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
        series: validated.map((l) => ({ name: l.name, values: pad(l.epochs.map(metricOf)) })),
      }),
    );
  }
  return charts;
}
