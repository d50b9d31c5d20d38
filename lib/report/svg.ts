/**
 * What every chart shares: the registry that lets renderReport embed only charts built here, the
 * root element (a viewBox that scales to its container), markers and whiskers.
 */
import { escapeHtml } from './escape';
import type { MarkerShape } from './palette';

/** An SVG chart ready for renderReport. */
export interface Chart {
  readonly kind: 'chart';
  readonly title: string;
  readonly svg: string;
}

const built = new WeakSet<Chart>();

/** Whether `value` came from one of the chart builders (renderReport embeds nothing else). */
export function isChart(value: unknown): value is Chart {
  return typeof value === 'object' && value !== null && built.has(value as Chart);
}

export function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function px(v: number): string {
  return v.toFixed(1);
}

/**
 * The root: width 100% of its container up to the drawn width, height from the viewBox's aspect,
 * so a chart never pushes the page wider than the screen.
 */
export function finish(title: string, width: number, height: number, parts: string[]): Chart {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${width} ${px(height)}" width="100%" preserveAspectRatio="xMidYMid meet" style="max-width:${width}px"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
  const chart: Chart = Object.freeze({ kind: 'chart' as const, title, svg });
  built.add(chart);
  return chart;
}

/** A data point's marker, `r` its half size; `tip` (plain text) becomes its tooltip. */
export function marker(shape: MarkerShape, x: number, y: number, r: number, color: string, tip?: string, hollow = false): string {
  const paint = hollow ? `fill="#fff" stroke="${color}" stroke-width="2"` : `fill="${color}"`;
  let tag: string;
  let geometry: string;
  switch (shape) {
    case 'square':
      tag = 'rect';
      geometry = `x="${px(x - r)}" y="${px(y - r)}" width="${px(2 * r)}" height="${px(2 * r)}"`;
      break;
    case 'triangle':
      tag = 'path';
      geometry = `d="M${px(x)} ${px(y - r * 1.2)}L${px(x + r * 1.1)} ${px(y + r * 0.8)}H${px(x - r * 1.1)}Z"`;
      break;
    case 'diamond':
      tag = 'path';
      geometry = `d="M${px(x)} ${px(y - r * 1.3)}L${px(x + r * 1.1)} ${px(y)}L${px(x)} ${px(y + r * 1.3)}L${px(x - r * 1.1)} ${px(y)}Z"`;
      break;
    default:
      tag = 'circle';
      geometry = `cx="${px(x)}" cy="${px(y)}" r="${r}"`;
  }
  const body = tip === undefined ? '/>' : `><title>${escapeHtml(tip)}</title></${tag}>`;
  return `<${tag} class="pt" ${geometry} ${paint}${body}`;
}

/** A vertical error bar from lo to hi (screen coordinates) at x. */
export function whisker(x: number, lo: number, hi: number, color: string): string {
  return `<path class="err" stroke="${color}" d="M${px(x)} ${px(lo)}V${px(hi)}M${px(x - 4)} ${px(lo)}h8M${px(x - 4)} ${px(hi)}h8"/>`;
}
