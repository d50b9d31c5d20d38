import { barChart, learningCurves, lineChart } from '../../lib/report/charts';
import { formatDifference } from '../../lib/report/format';
import { renderReport } from '../../lib/report/html';
import { intervalChart } from '../../lib/report/interval-chart';
import { textWidth } from '../../lib/report/legend';
import { PALETTE, seriesStyle } from '../../lib/report/palette';
import { formatTick, niceTicks } from '../../lib/report/scale';
import { failure } from '../support/errors';

/** The legend entries of a chart: [name, x] of each `<g class="legend">`. */
function legendEntries(svg: string): Array<{ name: string; x: number; y: number }> {
  return [...svg.matchAll(/<g class="legend">(?:<title>[^<]*<\/title>)?.*?<text x="([\d.]+)" y="([\d.]+)">([^<]*)<\/text><\/g>/g)].map(
    (m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
      name: m[3]!,
    }),
  );
}

function viewBox(svg: string): { width: number; height: number } {
  const m = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
}

describe('charts', () => {
  test('line chart: one path per series, points, whiskers, escaped labels', () => {
    const c = lineChart({
      title: 'NDCG by K <b>',
      x: [5, 10, 20],
      xLabel: 'K',
      series: [
        { name: 'bpr<script>', values: [0.2, 0.25, 0.3], errors: [0.01, 0.01, 0.02] },
        { name: 'pop', values: [0.1, null, 0.15] },
      ],
    });
    expect(c.svg.startsWith('<svg')).toBe(true);
    expect(c.svg.match(/<path class="line"/g)).toHaveLength(2);
    // five points with tooltips (the legend's markers have none)
    expect(c.svg.match(/<circle class="pt"[^>]*><title>/g)).toHaveLength(5);
    expect(c.svg.match(/class="err"/g)).toHaveLength(3);
    expect(c.svg).not.toContain('<script>');
    expect(c.svg).toContain('bpr&lt;script&gt;');
    expect(c.svg).toContain('NDCG by K &lt;b&gt;');
    // a gap splits the second line into two moves
    const pop = c.svg.match(/<path class="line" stroke="[^"]+"(?: stroke-dasharray="[^"]+")? d="([^"]+)"/g)![1];
    expect(pop.match(/M/g)).toHaveLength(2);
  });

  test('bar chart: one rect per finite value, error bars', () => {
    const c = barChart({
      title: 'Recall@10 by activity',
      categories: ['0-4', '5-19', '20+'],
      series: [
        { name: 'bpr', values: [0.1, 0.2, 0.3], errors: [0.01, 0, 0.02] },
        { name: 'pop', values: [0.05, NaN, 0.1] },
      ],
    });
    expect(c.svg.match(/<rect class="bar"/g)).toHaveLength(5);
    expect(c.svg.match(/class="err"/g)).toHaveLength(2);
  });

  test('learning curves from FitReport epochs', () => {
    const charts = learningCurves([
      { name: 'bpr seed 0', epochs: [1, 2, 3].map((e) => ({ epoch: e, loss: 1 / e, validation: { ndcg: 0.1 * e } })) },
      { name: 'bpr seed 1', epochs: [1, 2].map((e) => ({ epoch: e, loss: 1 / e })) },
    ]);
    expect(charts.map((c) => c.title)).toEqual(['Training loss by epoch', 'Validation ndcg by epoch']);
    expect(learningCurves([])).toEqual([]);
  });

  test('bad specs name the argument', () => {
    expect(() => lineChart({ title: 't', x: [1, 2], series: [{ name: 'a', values: [1] }] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', argument: 'spec.series[0].values' }),
    );
  });

  test('nice ticks cover the range with round steps', () => {
    expect(niceTicks(0, 0.27)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0.2, 0.9)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3).length).toBeGreaterThan(1);
  });
});

describe('legends, styles and sizes', () => {
  const long = Array.from({ length: 14 }, (_, i) => `strategy number ${i} with a long name`);

  function checkLayout(svg: string, names: string[]) {
    const entries = legendEntries(svg);
    expect(entries.map((e) => e.name)).toEqual(names);
    const { width } = viewBox(svg);
    const rows = new Map<number, typeof entries>();
    for (const e of entries) rows.set(e.y, [...(rows.get(e.y) ?? []), e]);
    for (const row of rows.values()) {
      row.forEach((e, i) => {
        const end = e.x + textWidth(e.name);
        expect(end).toBeLessThanOrEqual(width);
        const next = row[i + 1];
        if (next) expect(end).toBeLessThan(next.x - 24); // the next entry's swatch starts after this text
      });
    }
    return rows.size;
  }

  test('legends never drop entries: they wrap onto more rows and the chart grows to hold them', () => {
    const bars = (n: number) =>
      barChart({ title: 't', categories: ['a', 'b'], series: long.slice(0, n).map((name) => ({ name, values: [1, 2] })) });
    expect(checkLayout(bars(14).svg, long)).toBeGreaterThan(2);
    expect(checkLayout(bars(2).svg, long.slice(0, 2))).toBe(1);
    expect(viewBox(bars(14).svg).height).toBeGreaterThan(viewBox(bars(2).svg).height + 30);
    const lines = lineChart({ title: 't', x: [1, 2], series: long.map((name) => ({ name, values: [1, 2] })) });
    checkLayout(lines.svg, long);
    // The ten strategies of the lift report at the narrowest width still all appear.
    const ten = [
      'popularity',
      'target-only',
      'neighbours',
      'fine-tune',
      'joint',
      'mapping-linear',
      'mapping-mlp',
      'bridge',
      'content',
      'hybrid',
    ];
    checkLayout(barChart({ title: 't', categories: ['cold'], width: 240, series: ten.map((name) => ({ name, values: [1] })) }).svg, ten);
  });

  test('a name longer than a whole row is shortened with an ellipsis and keeps its full text as a tooltip', () => {
    const name = `a${'very '.repeat(40)}long name`;
    const c = barChart({ title: 't', categories: ['a'], series: [{ name, values: [1] }] });
    const [entry] = legendEntries(c.svg);
    expect(entry!.name.endsWith('…')).toBe(true);
    expect(textWidth(entry!.name)).toBeLessThan(viewBox(c.svg).width);
    expect(c.svg).toContain(`<title>${name}</title>`);
  });

  test("series stay distinguishable: Tol's n-colour scheme up to 12 series, then dashes, markers and fills", () => {
    expect(new Set(PALETTE).size).toBe(12);
    for (let n = 1; n <= 12; n++) expect(new Set(Array.from({ length: n }, (_, i) => seriesStyle(i, n).color)).size).toBe(n);
    const styles = Array.from({ length: 48 }, (_, i) => seriesStyle(i, 48));
    expect(new Set(styles.map((x) => `${x.color} ${x.dash} ${x.marker}`)).size).toBe(48);
    expect(new Set(styles.map((x) => `${x.color} ${x.fillOpacity}`)).size).toBe(48);
    const lines = lineChart({ title: 't', x: [1, 2], series: long.map((name) => ({ name, values: [1, 2] })) });
    expect(lines.svg.match(/<path class="line"[^>]*stroke-dasharray/g)).toHaveLength(2);
    expect(lines.svg.match(/<rect class="pt"[^>]*><title>/g)).toHaveLength(4); // square markers of series 13 and 14
    const bars = barChart({ title: 't', categories: ['a'], series: long.map((name) => ({ name, values: [1] })) });
    expect(bars.svg.match(/<rect class="bar"[^>]*fill-opacity/g)).toHaveLength(2);
  });

  test('charts scale to their container: a viewBox, width 100% up to the drawn width, height from the aspect', () => {
    for (const c of [
      lineChart({ title: 't', x: [1, 2], series: [{ name: 'a', values: [1, 2] }], width: 500 }),
      barChart({ title: 't', categories: ['a'], series: [{ name: 'a', values: [1] }], width: 500 }),
      intervalChart({ title: 't', categories: ['a'], series: [{ name: 's', values: [1], low: [0], high: [2] }], width: 500 }),
    ]) {
      const root = c.svg.slice(0, c.svg.indexOf('>'));
      expect(root).toMatch(/viewBox="0 0 500 [\d.]+"/);
      expect(root).toContain('width="100%"');
      expect(root).toContain('max-width:500px');
      expect(root).not.toMatch(/ height=/);
    }
    expect(failure(() => lineChart({ title: 't', x: [1], series: [], width: 10 }))).toMatch(/ERR_OUT_OF_RANGE.*spec\.width/);
  });

  test('a series mark: a dashed line and a ring at that x, explained once in the legend', () => {
    const c = lineChart({
      title: 't',
      x: [1, 2, 3, 4],
      markLabel: 'best epoch',
      series: [
        { name: 'a', values: [1, 2, 3, 2], mark: 2 },
        { name: 'b', values: [1, 1, 1, 1] },
      ],
    });
    const marks = [...c.svg.matchAll(/<path class="mark" stroke="[^"]+" d="M([\d.]+) /g)];
    expect(marks).toHaveLength(1);
    const third = /<circle class="pt" cx="([\d.]+)" cy="[\d.]+" r="3" [^>]*><title>a @ 3: 3<\/title>/.exec(c.svg)!;
    expect(marks[0]![1]).toBe(third[1]);
    expect(c.svg).toContain('a: best epoch at 3: 3');
    expect(c.svg.match(/<g class="legend-note">/g)).toHaveLength(1);
    expect(legendEntries(c.svg).map((e) => e.name)).toEqual(['a', 'b']);
    expect(failure(() => lineChart({ title: 't', x: [1, 2], series: [{ name: 'a', values: [1, 2], mark: 2 }] }))).toMatch(
      /ERR_OUT_OF_RANGE.*spec\.series\[0\]\.mark/,
    );
  });

  test("learning curves mark each run's best epoch on the loss and the validation chart", () => {
    const epochs = (n: number) =>
      Array.from({ length: n }, (_, e) => ({ epoch: e + 1, loss: 1 / (e + 1), validation: { mrr: [0.1, 0.3, 0.2, 0.25, 0.2][e] } }));
    const charts = learningCurves(
      [
        { name: 'bpr seed 0', epochs: epochs(5), bestEpoch: 2 },
        { name: 'bpr seed 1', epochs: epochs(4), bestEpoch: 4 },
        { name: 'no best', epochs: epochs(3) },
      ],
      'mrr',
    );
    expect(charts).toHaveLength(2);
    for (const c of charts) {
      expect(c.svg.match(/<path class="mark"/g)).toHaveLength(2);
      expect(c.svg).toContain('bpr seed 0: best epoch at 2');
      expect(c.svg).toContain('bpr seed 1: best epoch at 4');
    }
    expect(failure(() => learningCurves([{ name: 'x', epochs: epochs(2), bestEpoch: 3 }]))).toMatch(
      /ERR_OUT_OF_RANGE.*logs\[0\]\.bestEpoch/,
    );
    expect(failure(() => learningCurves([{ name: 'x' } as never]))).toMatch(/ERR_INVALID_ARG_TYPE.*logs\[0\]/);
  });

  test('interval chart: one row per category, one interval per series, a reference line at 0', () => {
    const c = intervalChart({
      title: 'NDCG minus <b>',
      categories: ['fine-tune', 'x'.repeat(300)],
      xLabel: 'difference',
      series: [
        { name: 'cold', values: [0.1, -0.05], low: [0.05, -0.1], high: [0.15, 0.01] },
        { name: 'warm', values: [0.02, null], low: [-0.01, null], high: [0.04, null] },
      ],
    });
    expect(c.svg.match(/<path class="interval"/g)).toHaveLength(3);
    expect(c.svg.match(/<line class="reference"/g)).toHaveLength(1);
    expect(c.svg).toContain('NDCG minus &lt;b&gt;');
    expect(c.svg).toContain('cold · fine-tune: 0.1 [0.05, 0.15]');
    expect(legendEntries(c.svg).map((e) => e.name)).toEqual(['cold', 'warm']);
    // The long category is shortened to fit its column and keeps its full name as a tooltip.
    expect(c.svg).toMatch(/<text class="tick category"[^>]*><title>x{300}<\/title>x+…<\/text>/);
    // the reference line sits at x(0), between the smallest low and the largest high
    const ref = Number(/<line class="reference" x1="([\d.]+)"/.exec(c.svg)![1]);
    const ticks = [...c.svg.matchAll(/<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="middle">0<\/text>/g)];
    expect(ticks).toHaveLength(1);
    expect(Number(ticks[0]![1])).toBeCloseTo(ref, 1);
    expect(
      failure(() => intervalChart({ title: 't', categories: ['a'], series: [{ name: 's', values: [1], low: [], high: [1] }] })),
    ).toMatch(/ERR_INVALID_ARG_TYPE.*spec\.series\[0\]\.low/);
    expect(failure(() => intervalChart({ title: 't', categories: ['a'], series: [], reference: Number.NaN }))).toMatch(/spec\.reference/);
  });

  test('tick labels carry no rounding residue', () => {
    for (const [lo, hi] of [
      [-0.4, 0.1],
      [-0.3, 0.3],
      [-0.07, 0.02],
    ] as const) {
      const ticks = niceTicks(lo, hi);
      expect(ticks).toContain(0);
      for (const t of ticks) expect(formatTick(t)).not.toMatch(/e-/);
    }
  });

  test('a difference in one phrase', () => {
    expect(formatDifference({ mean: 0.01234, low: -0.002, high: 0.0251, pValue: 0.0612 })).toBe('+0.0123 [−0.0020, +0.0251], p = 0.061');
    expect(formatDifference({ mean: -0.5, low: -0.6, high: -0.4, pValue: 0.0004 }, 2)).toBe('−0.50 [−0.60, −0.40], p < 0.001');
  });
});

describe('renderReport', () => {
  test('a self-contained page with escaped text, tables and charts', () => {
    const chart = lineChart({ title: 'c', x: [1], series: [{ name: 's', values: [1] }] });
    const html = renderReport({
      title: 'Run <1>',
      subtitle: 'data & "seeds"',
      sections: [
        {
          heading: 'Items <i>',
          text: ['id <img src=x onerror=alert(1)>'],
          table: {
            columns: ['model', 'ndcg'],
            rows: [
              ['<pop>', 0.123456],
              ['n', 3],
              ['x', null],
            ],
          },
          chart,
        },
      ],
    });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>Run &lt;1&gt;</title>');
    expect(html).toContain('data &amp; &quot;seeds&quot;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).toContain('<td>&lt;pop&gt;</td><td>0.1235</td>');
    expect(html).toContain('<td>3</td>');
    expect(html).toContain(chart.svg);
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  test('wide tables scroll in their own box; long prose cells wrap; several tables with captions', () => {
    const html = renderReport({
      title: 't',
      sections: [
        {
          heading: 'h',
          table: { columns: ['a', 'b'], rows: [['short', 'x'.repeat(60)]] },
          tables: [{ caption: 'minus <pop>', columns: ['c'], rows: [[1]] }],
        },
      ],
    });
    expect(html.match(/<div class="table-wrap"><table>/g)).toHaveLength(2);
    expect(html).toContain('<td class="prose">xxx');
    expect(html).toContain('<td>short</td>');
    expect(html).toContain('<caption>minus &lt;pop&gt;</caption>');
    expect(html).toMatch(/\.table-wrap\{[^}]*overflow-x:auto/);
    expect(failure(() => renderReport({ title: 't', sections: [{ heading: 'h', tables: {} as never }] }))).toMatch(
      /spec\.sections\[0\]\.tables/,
    );
    expect(failure(() => renderReport({ title: 't', sections: [{ heading: 'h', tables: [null as never] }] }))).toMatch(
      /spec\.sections\[0\]\.tables\[0\]/,
    );
  });

  test('refuses charts not built by the chart builders', () => {
    const forged = { kind: 'chart', title: 'x', svg: '<script>alert(1)</script>' };
    expect(() => renderReport({ title: 't', sections: [{ heading: 'h', chart: forged as never }] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', argument: 'spec.sections[0].charts[0]' }),
    );
  });
});
