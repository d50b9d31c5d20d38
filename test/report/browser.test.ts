// The HTML reports in a real browser: Debian's Chromium driven by playwright-core (no browser
// download). Every legend entry must be there and visible, nothing may stick out of the page at a
// laptop and a narrow width, and each page is saved as a screenshot (test-results/, a CI artifact).
//
// Chromium is found at RECBRIDGE_CHROMIUM or /usr/bin/chromium. Without it the suite is skipped
// locally, with a message; in CI (CI=true) it fails, so the check cannot silently disappear.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type Browser, chromium } from 'playwright-core';

import { main } from '../../lib/commands/cli';
import { uniformGenerator } from '../../lib/core/random';
import { transfer } from '../../lib/transfer/lift';
import { renderLiftReport } from '../../lib/transfer/lift-report';
import { syntheticDomains } from '../../lib/transfer/synthetic';

const CHROMIUM = process.env.RECBRIDGE_CHROMIUM ?? '/usr/bin/chromium';
const IN_CI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI.toLowerCase());
const FOUND = fs.existsSync(CHROMIUM);
const RESULTS = path.resolve(__dirname, '../../test-results');
const WIDTHS = [800, 1280];
const STRATEGIES = [
  'popularity',
  'target-only',
  'neighbours',
  'fine-tune',
  'joint',
  'mapping-linear',
  'mapping-mlp',
  'bridge',
  'als',
  'content',
  'graph',
  'hybrid',
  'ease-cross',
  'ease',
  'towers-shared-items',
  'towers-shared-users',
  'fusion',
];

if (!FOUND && !IN_CI) {
  console.warn(
    `test/report/browser.test.ts skipped: no Chromium at ${CHROMIUM}. Install Debian's chromium (apt-get install chromium) ` +
      'or set RECBRIDGE_CHROMIUM; in CI (CI=true) this suite fails instead of skipping.',
  );
}

/** What the page reports about one chart. */
interface ChartCheck {
  title: string;
  legend: string[];
  /** Legend entries with no area, or outside their chart's drawn box. */
  hidden: string[];
  /** Pairs of legend entries whose boxes overlap. */
  overlapping: string[];
  /** Texts of the chart drawn (partly) outside its box: clipped. */
  clipped: string[];
  marks: number;
  /** Rendered size and the size the viewBox's aspect implies. */
  width: number;
  height: number;
  aspectHeight: number;
}

interface PageCheck {
  viewport: number;
  scrollWidth: number;
  /** Elements whose box leaves the viewport horizontally (outside a table's scroll box). */
  overflowing: string[];
  charts: ChartCheck[];
}

// Runs in the page (a script of its own: the DOM types are not part of this project's TypeScript).
const INSPECT = fs.readFileSync(path.join(__dirname, 'inspect-page.js'), 'utf8');

// Two communities of users, each preferring its own half of the items (as in test/commands).
function writePairs(file: string): void {
  const rand = uniformGenerator(42);
  const lines: string[] = [];
  for (let u = 0; u < 80; u++) {
    const picked = new Set<number>();
    while (picked.size < 8 + (u % 10)) picked.add((u % 2) * 30 + Math.floor(rand() * 30));
    for (const i of picked) lines.push(`u${u} i${i}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const spies = [
    jest.spyOn(console, 'log').mockImplementation(() => undefined),
    jest.spyOn(console, 'error').mockImplementation(() => undefined),
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true),
  ];
  try {
    return await fn();
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

(FOUND || IN_CI ? describe : describe.skip)('reports in a real browser (Chromium)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-browser-'));
  const lift = path.join(dir, 'lift.html');
  const evaluation = path.join(dir, 'evaluate.html');
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!FOUND) throw new Error(`No Chromium at ${CHROMIUM}: CI must have it (scripts/ci/system-deps.sh installs Debian's chromium)`);
    fs.mkdirSync(RESULTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    // The demo's lift report, small: the demo's generated domains and model size, two seeds, all strategies.
    const { source, target } = syntheticDomains({ users: 300, seed: 1 });
    const report = await transfer(source, target, { seeds: 2, settings: { dim: 32, threads: 1 }, sampled: { negatives: 30 } });
    fs.writeFileSync(lift, renderLiftReport(report, { command: 'recbridge demo --users 300 --seeds 2 --sampled 30' }));
    const data = path.join(dir, 'pairs.txt');
    writePairs(data);
    const code = await quietly(() =>
      main([
        'evaluate',
        '--data',
        data,
        '--seeds',
        '2',
        '--k',
        '5,10',
        '--epochs',
        '15',
        '--dim',
        '8',
        '--threads',
        '1',
        '--report',
        evaluation,
      ]),
    );
    expect(code).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function check(file: string, width: number, shot: string): Promise<PageCheck> {
    const page = await browser!.newPage({ viewport: { width, height: 900 } });
    try {
      await page.goto(`file://${file}`);
      const result = (await page.evaluate(INSPECT)) as PageCheck;
      await page.screenshot({ path: path.join(RESULTS, `${shot}-${width}.png`), fullPage: true });
      return result;
    } finally {
      await page.close();
    }
  }

  function expectSound(p: PageCheck): void {
    expect(p.overflowing).toEqual([]);
    expect(p.scrollWidth).toBeLessThanOrEqual(p.viewport);
    for (const c of p.charts) {
      expect({ chart: c.title, hidden: c.hidden, overlapping: c.overlapping, clipped: c.clipped }).toEqual({
        chart: c.title,
        hidden: [],
        overlapping: [],
        clipped: [],
      });
      expect(c.width).toBeLessThanOrEqual(p.viewport);
      expect(Math.abs(c.height - c.aspectHeight)).toBeLessThan(2); // scaled as a whole, not squashed
    }
  }

  test('the page checks catch overflow, clipped or overlapping legend entries and squashed charts', async () => {
    const page = await browser!.newPage({ viewport: { width: 800, height: 600 } });
    try {
      await page.setContent(`<body style="margin:0"><div style="width:1200px">wide</div>
        <div class="table-wrap" style="overflow-x:auto;max-width:100%"><table><tr><td style="white-space:nowrap">${'x'.repeat(400)}</td></tr></table></div>
        <svg class="chart" viewBox="0 0 200 100" width="200" height="300"><title>bad</title>
        <g class="legend"><text x="150" y="50">past the edge</text></g>
        <g class="legend"><text x="10" y="20">one</text></g><g class="legend"><text x="12" y="22">two</text></g></svg></body>`);
      const p = (await page.evaluate(INSPECT)) as PageCheck;
      expect(p.overflowing).toEqual(['div [0, 1200]']); // the scrolling table is fine, the wide div is not
      expect(p.scrollWidth).toBeGreaterThan(p.viewport);
      const [c] = p.charts;
      expect(c!.hidden).toEqual(['past the edge']);
      expect(c!.clipped).toEqual(['past the edge']);
      expect(c!.overlapping).toEqual(['one / two']);
      expect(Math.abs(c!.height - c!.aspectHeight)).toBeGreaterThan(100);
    } finally {
      await page.close();
    }
  });

  test.each(WIDTHS)(
    'lift report at %i px: every strategy in every legend, nothing past the page width',
    async (width) => {
      const p = await check(lift, width, 'report-lift');
      expectSound(p);
      const bars = p.charts.filter((c) => / by slice$/.test(c.title));
      expect(bars.map((c) => c.title)).toEqual([
        'RECALL@10 by slice',
        'NDCG@10 by slice',
        'HIT@10 by slice',
        'MRR@10 by slice',
        'Sampled NDCG@10 by slice',
      ]);
      for (const c of bars) expect(c.legend).toEqual(STRATEGIES);
      const lifts = p.charts.filter((c) => c.title.startsWith('NDCG@10 minus'));
      expect(lifts.map((c) => c.title)).toEqual(['NDCG@10 minus target-only', 'NDCG@10 minus neighbours']);
      for (const c of lifts) expect(c.legend).toEqual(['cold users', 'warm users', 'all users']);
      // The lift charts come first.
      expect(p.charts[0]!.title).toBe('NDCG@10 minus target-only');
    },
    60_000,
  );

  test.each(WIDTHS)(
    'evaluate report at %i px: legends complete, best epochs marked, nothing past the page width',
    async (width) => {
      const p = await check(evaluation, width, 'report-evaluate');
      expectSound(p);
      const byK = p.charts.filter((c) => / by K$/.test(c.title));
      expect(byK).toHaveLength(6);
      for (const c of byK) expect(c.legend).toEqual(['pop', 'random', 'bpr']);
      const curves = p.charts.filter((c) => / by epoch$/.test(c.title));
      expect(curves).toHaveLength(2);
      for (const c of curves) {
        expect(c.legend).toEqual(['bpr seed 0', 'bpr seed 1']);
        expect(c.marks).toBe(2);
      }
    },
    60_000,
  );
});
