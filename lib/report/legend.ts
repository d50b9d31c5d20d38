/**
 * Legends that never drop an entry: entries flow left to right and wrap onto as many rows as they
 * need; the chart grows by the legend's height. Text widths are estimated (an SVG string cannot
 * measure its glyphs), generously, so entries do not overlap in common sans-serif fonts; a name
 * too long for a whole row is shortened with an ellipsis and keeps its full text as a tooltip.
 */
import { escapeHtml } from './escape';
import type { SeriesStyle } from './palette';
import { marker, px } from './svg';

export interface LegendEntry {
  name: string;
  style: SeriesStyle;
  /** The swatch: a line sample with its marker, or a filled box. */
  kind: 'line' | 'bar';
  /** An explanation rather than a series (e.g. what a mark means): a hollow marker, class legend-note. */
  note?: boolean;
}

/** Legend text size in px (the report's stylesheet uses the same). */
const FONT = 11;
export const LEGEND_ROW = 17;
const PAD = 12;
const GAP = 16;

/** An upper estimate of the rendered width of `text` at the legend's font size. */
export function textWidth(text: string, font = FONT): number {
  let em = 0;
  for (const c of text) {
    if ("il.,:;|!'’ jtf()[]".includes(c)) em += 0.36;
    else if ('mwMW@%'.includes(c)) em += 0.92;
    else if (c >= 'A' && c <= 'Z') em += 0.72;
    else if (c.charCodeAt(0) > 0x2e7f)
      em += 1.05; // CJK and other wide scripts
    else em += 0.6;
  }
  return em * font;
}

function swatchWidth(kind: LegendEntry['kind']): number {
  return kind === 'line' ? 24 : 12;
}

/** `name`, shortened with an ellipsis to fit `room` px. */
export function shorten(name: string, room: number): string {
  if (textWidth(name) <= room) return name;
  const chars = Array.from(name);
  while (chars.length > 1 && textWidth(`${chars.join('')}…`) > room) chars.pop();
  return `${chars.join('')}…`;
}

export interface LegendLayout {
  rows: number;
  /** The legend's markup, given the y of its first row's baseline. */
  render(top: number): string;
}

/** Lays the entries out within `width` (the chart's width). */
export function layoutLegend(entries: readonly LegendEntry[], width: number): LegendLayout {
  const room = width - 2 * PAD;
  const placed: { entry: LegendEntry; label: string; x: number; row: number }[] = [];
  let x = PAD;
  let row = 0;
  for (const entry of entries) {
    const swatch = swatchWidth(entry.kind) + 5;
    const label = shorten(entry.name, room - swatch);
    const w = swatch + textWidth(label);
    if (x > PAD && x + w > width - PAD) {
      row++;
      x = PAD;
    }
    placed.push({ entry, label, x, row });
    x += w + GAP;
  }
  return {
    rows: entries.length ? row + 1 : 0,
    render(top) {
      return placed
        .map(({ entry, label, x: at, row: r }) => {
          const y = top + r * LEGEND_ROW;
          const { color, dash, fillOpacity } = entry.style;
          const dashed = dash ? ` stroke-dasharray="${dash}"` : '';
          const swatch =
            entry.kind === 'line'
              ? `<path class="swatch" stroke="${color}"${dashed} stroke-width="2" fill="none" d="M${px(at)} ${px(y - 4)}h24"/>${marker(entry.style.marker, at + 12, y - 4, entry.note ? 4 : 3, color, undefined, entry.note)}`
              : `<rect class="swatch" x="${px(at)}" y="${px(y - 10)}" width="12" height="12" fill="${color}" fill-opacity="${fillOpacity}" stroke="${color}"${dashed} stroke-width="1.5"/>`;
          const tip = label === entry.name ? '' : `<title>${escapeHtml(entry.name)}</title>`;
          return `<g class="${entry.note ? 'legend-note' : 'legend'}">${tip}${swatch}<text x="${px(at + swatchWidth(entry.kind) + 5)}" y="${px(y)}">${escapeHtml(label)}</text></g>`;
        })
        .join('');
    },
  };
}
