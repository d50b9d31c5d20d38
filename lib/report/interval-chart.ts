/**
 * Differences with their intervals (a forest plot): one row per category (e.g. a strategy), one
 * point and interval per series (e.g. a user slice), and a reference line at "no difference". An
 * interval that crosses the line shows at a glance that the data do not settle the question.
 */
import { rangeError, typeError } from '../core/validate';
import { escapeHtml } from './escape';
import { LEGEND_ROW, layoutLegend, shorten, textWidth } from './legend';
import { seriesStyle } from './palette';
import { formatTick, niceTicks } from './scale';
import { finish, finite, marker, px, type Chart } from './svg';

export interface IntervalSeries {
  name: string;
  /** The point estimate per category; null or NaN draws nothing for that category. */
  values: ReadonlyArray<number | null>;
  /** The interval's bounds per category. */
  low: ReadonlyArray<number | null>;
  high: ReadonlyArray<number | null>;
}

export interface IntervalChartSpec {
  title: string;
  /** One row per category, top to bottom. */
  categories: ReadonlyArray<string>;
  series: readonly IntervalSeries[];
  xLabel?: string;
  /** Where the vertical reference line goes. Default 0; null for none. */
  reference?: number | null;
  /** Drawing width in px (the chart scales down to its container). Default 640. */
  width?: number;
}

const TOP = 34;
const RIGHT = 18;

function checkSpec(spec: IntervalChartSpec): void {
  if (!spec || typeof spec.title !== 'string' || !Array.isArray(spec.categories) || !Array.isArray(spec.series))
    throw typeError('spec', '{ title, categories, series }', spec);
  const n = spec.categories.length;
  spec.categories.forEach((c, i) => {
    if (typeof c !== 'string') throw typeError(`spec.categories[${i}]`, 'string', c);
  });
  spec.series.forEach((s, i) => {
    if (!s || typeof s.name !== 'string') throw typeError(`spec.series[${i}]`, '{ name, values, low, high }', s);
    for (const key of ['values', 'low', 'high'] as const) {
      if (!Array.isArray(s[key]) || s[key].length !== n) throw typeError(`spec.series[${i}].${key}`, `an array of ${n} numbers`, s[key]);
    }
  });
  if (spec.reference !== undefined && spec.reference !== null && !finite(spec.reference))
    throw rangeError('spec.reference', 'finite number or null', spec.reference);
  if (spec.width !== undefined && (!finite(spec.width) || spec.width < 240 || spec.width > 10_000))
    throw rangeError('spec.width', 'number of px in [240, 10000]', spec.width);
}

/** A forest plot of point estimates and intervals. */
export function intervalChart(spec: IntervalChartSpec): Chart {
  checkSpec(spec);
  const width = spec.width ?? 640;
  const { categories, series } = spec;
  const reference = spec.reference === undefined ? 0 : spec.reference;
  const styles = series.map((_, i) => seriesStyle(i, series.length));
  const labelRoom = Math.min(width * 0.35, Math.max(40, ...categories.map((c) => textWidth(c))));
  const left = labelRoom + 16;
  const plotW = width - left - RIGHT;
  const rowH = Math.max(22, 10 + series.length * 9);
  const bottom = TOP + Math.max(categories.length, 1) * rowH;

  const lows: number[] = reference === null ? [] : [reference];
  const highs: number[] = reference === null ? [] : [reference];
  for (const s of series) {
    categories.forEach((_, c) => {
      for (const v of [s.values[c], s.low[c], s.high[c]]) {
        if (finite(v)) {
          lows.push(v);
          highs.push(v);
        }
      }
    });
  }
  const ticks = niceTicks(lows.length ? Math.min(...lows) : 0, highs.length ? Math.max(...highs) : 1);
  const x0 = ticks[0] ?? 0;
  const x1 = ticks[ticks.length - 1] ?? 1;
  const x = (v: number) => left + ((v - x0) / (x1 - x0 || 1)) * plotW;

  const legend = layoutLegend(
    series.map((s, i) => ({ name: s.name, style: styles[i]!, kind: 'line' as const })),
    width,
  );
  const labelY = bottom + 34;
  const legendTop = (spec.xLabel ? labelY : bottom + 16) + LEGEND_ROW + 2;
  const height = legendTop + Math.max(legend.rows - 1, 0) * LEGEND_ROW + 10;

  const parts: string[] = [`<text class="title" x="${width / 2}" y="18" text-anchor="middle">${escapeHtml(spec.title)}</text>`];
  categories.forEach((c, i) => {
    const top = TOP + i * rowH;
    if (i % 2 === 0) parts.push(`<rect class="band" x="${px(left)}" y="${px(top)}" width="${px(plotW)}" height="${rowH}" fill="#f6f6f6"/>`);
    const label = shorten(c, labelRoom);
    const tip = label === c ? '' : `<title>${escapeHtml(c)}</title>`;
    parts.push(
      `<text class="tick category" x="${px(left - 8)}" y="${px(top + rowH / 2 + 4)}" text-anchor="end">${tip}${escapeHtml(label)}</text>`,
    );
  });
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${px(x(t))}" x2="${px(x(t))}" y1="${TOP}" y2="${bottom}"/>`);
    parts.push(`<text class="tick" x="${px(x(t))}" y="${bottom + 15}" text-anchor="middle">${escapeHtml(formatTick(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${px(left)}" x2="${px(left + plotW)}" y1="${bottom}" y2="${bottom}"/>`);
  if (reference !== null)
    parts.push(`<line class="reference" x1="${px(x(reference))}" x2="${px(x(reference))}" y1="${TOP}" y2="${bottom}"/>`);
  if (spec.xLabel)
    parts.push(`<text class="label" x="${px(left + plotW / 2)}" y="${labelY}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);

  series.forEach((s, j) => {
    const { color, dash, marker: shape } = styles[j]!;
    categories.forEach((c, i) => {
      const v = s.values[i];
      if (!finite(v)) return;
      const y = TOP + i * rowH + rowH / 2 + (j - (series.length - 1) / 2) * 9;
      const lo = s.low[i];
      const hi = s.high[i];
      const tip = `${s.name} · ${c}: ${formatTick(v)}${finite(lo) && finite(hi) ? ` [${formatTick(lo)}, ${formatTick(hi)}]` : ''}`;
      if (finite(lo) && finite(hi))
        parts.push(
          `<path class="interval" stroke="${color}"${dash ? ` stroke-dasharray="${dash}"` : ''} d="M${px(x(lo))} ${px(y)}H${px(x(hi))}M${px(x(lo))} ${px(y - 3)}v6M${px(x(hi))} ${px(y - 3)}v6"/>`,
        );
      parts.push(marker(shape, x(v), y, 3.5, color, tip));
    });
  });
  parts.push(legend.render(legendTop));
  return finish(spec.title, width, height, parts);
}
