import { barChart, learningCurves, lineChart } from '../../lib/report/charts';
import { renderReport } from '../../lib/report/html';
import { niceTicks } from '../../lib/report/scale';

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
    expect(c.svg.match(/<circle/g)).toHaveLength(5);
    expect(c.svg.match(/class="err"/g)).toHaveLength(3);
    expect(c.svg).not.toContain('<script>');
    expect(c.svg).toContain('bpr&lt;script&gt;');
    expect(c.svg).toContain('NDCG by K &lt;b&gt;');
    // a gap splits the second line into two moves
    const pop = c.svg.match(/<path class="line" stroke="[^"]+" d="([^"]+)"/g)![1];
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

  test('refuses charts not built by the chart builders', () => {
    const forged = { kind: 'chart', title: 'x', svg: '<script>alert(1)</script>' };
    expect(() => renderReport({ title: 't', sections: [{ heading: 'h', chart: forged as never }] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', argument: 'spec.sections[0].charts[0]' }),
    );
  });
});
