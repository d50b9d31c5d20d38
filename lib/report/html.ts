/**
 * Self-contained HTML reports (no scripts, no external assets, nothing fetched): a title and
 * sections, each with text, a table and charts. Every string is escaped; charts are embedded only
 * when built by ./charts.
 */
import { typeError } from '../core/validate';
import { isChart, type Chart } from './svg';
import { escapeHtml } from './escape';

export interface ReportTable {
  /** A line above the table saying what it shows. */
  caption?: string;
  columns: readonly string[];
  /** Cells: strings as given, numbers with `digits` decimals (integers as is), null as empty. */
  rows: ReadonlyArray<ReadonlyArray<string | number | null>>;
  /** Decimals for non-integer numbers. Default 4. */
  digits?: number;
}

export interface ReportSection {
  heading: string;
  /** Paragraphs. */
  text?: string | readonly string[];
  table?: ReportTable;
  /** More tables, after `table`. */
  tables?: readonly ReportTable[];
  chart?: Chart;
  charts?: readonly Chart[];
}

export interface ReportSpec {
  title: string;
  /** A line under the title (data set, date, command). */
  subtitle?: string;
  sections: readonly ReportSection[];
}

// Nothing may make the page wider than the screen: charts scale down (viewBox, width 100%),
// wide tables scroll inside their own box, long words in text break.
const STYLE = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h1,h2,p{overflow-wrap:anywhere}.subtitle{color:#666;margin-top:0}
.table-wrap{max-width:100%;overflow-x:auto;margin:.8rem 0}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right;white-space:nowrap}td.prose{white-space:normal;min-width:18rem;text-align:left}
caption{text-align:left;color:#444;padding:.2rem 0;caption-side:top}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.charts svg.chart{flex:1 1 420px;min-width:0;height:auto}
svg.chart{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #eee}
svg .title{font-size:14px;font-weight:600}svg .tick,svg .legend text,svg .legend-note text{font-size:11px;fill:#444}svg .label{font-size:12px;fill:#222}
svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .line{fill:none;stroke-width:2}svg .err{stroke-width:1.2;fill:none}
svg .mark{stroke-width:1.2;stroke-dasharray:3 3;opacity:.8}svg .reference{stroke:#444;stroke-width:1.2;stroke-dasharray:4 3}
svg .interval{stroke-width:2;fill:none}`;

/** Cells do not wrap (a wide table scrolls in its box), except long prose, which would make it too wide. */
const PROSE = 48;

function cell(value: string | number | null, digits: number): string {
  if (value === null || value === undefined) return '<td></td>';
  if (typeof value === 'number') return `<td>${escapeHtml(Number.isInteger(value) ? String(value) : value.toFixed(digits))}</td>`;
  return `<td${value.length > PROSE ? ' class="prose"' : ''}>${escapeHtml(value)}</td>`;
}

function table(t: ReportTable, argument: string): string {
  if (!t || !Array.isArray(t.columns as unknown) || !Array.isArray(t.rows as unknown)) throw typeError(argument, '{ columns, rows }', t);
  const digits = t.digits ?? 4;
  const head = `<tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((v) => cell(v, digits)).join('')}</tr>`).join('\n');
  const caption = t.caption === undefined ? '' : `<caption>${escapeHtml(t.caption)}</caption>`;
  return `<div class="table-wrap"><table>${caption}<thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** The whole report as one HTML document (a string: write it to a file). */
export function renderReport(spec: ReportSpec): string {
  if (!spec || typeof spec.title !== 'string' || !Array.isArray(spec.sections)) throw typeError('spec', '{ title, sections }', spec);
  const parts: string[] = [];
  spec.sections.forEach((s, i) => {
    if (!s || typeof s.heading !== 'string') throw typeError(`spec.sections[${i}].heading`, 'string', s?.heading);
    parts.push(`<section><h2>${escapeHtml(s.heading)}</h2>`);
    const text = s.text === undefined ? [] : Array.isArray(s.text) ? s.text : [s.text as string];
    for (const p of text) parts.push(`<p>${escapeHtml(p)}</p>`);
    if (s.table) parts.push(table(s.table, `spec.sections[${i}].table`));
    if (s.tables !== undefined && !Array.isArray(s.tables)) throw typeError(`spec.sections[${i}].tables`, 'array of tables', s.tables);
    (s.tables ?? []).forEach((t: ReportTable, j: number) => parts.push(table(t, `spec.sections[${i}].tables[${j}]`)));
    const charts = [...(s.chart ? [s.chart] : []), ...(s.charts ?? [])];
    charts.forEach((c, j) => {
      if (!isChart(c))
        throw typeError(`spec.sections[${i}].charts[${j}]`, 'a Chart from lineChart, barChart, intervalChart or learningCurves', c);
    });
    if (charts.length) parts.push(`<div class="charts">${charts.map((c) => c.svg).join('\n')}</div>`);
    parts.push('</section>');
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(spec.title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(spec.title)}</h1>${spec.subtitle ? `<p class="subtitle">${escapeHtml(spec.subtitle)}</p>` : ''}
${parts.join('\n')}
</body></html>
`;
}
