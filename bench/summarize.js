#!/usr/bin/env node
'use strict';
// Medians over repeated runs of the suite, as the Markdown tables of bench/RESULTS.md:
//   node bench/summarize.js run1.json run2.json run3.json > tables.md
// Records are matched across runs by name, the parameters that tell a case apart and the baseline;
// each cell is the median over the runs, with the spread (min–max) beside it when there are several.
const fs = require('node:fs');

/** Parameters that identify a case (counts of samples, timings and checks do not). */
const IDENTITY = [
  'label',
  'queries',
  'rows',
  'dim',
  'k',
  'threads',
  'path',
  'optimizer',
  'rejectPositives',
  'similarity',
  'quantize',
  'rerank',
  'excluded',
  'optimizerState',
  'forServing',
  'workers',
  'processes',
  'dispatch',
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function number(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

function count(v) {
  if (typeof v !== 'number') return String(v);
  if (v >= 1e6 && v % 1e6 === 0) return `${v / 1e6}M`;
  if (v >= 1e3 && v % 1e3 === 0) return `${v / 1e3}k`;
  return String(v);
}

function describe(p) {
  return IDENTITY.filter((k) => p[k] !== undefined)
    .map((k) => `${k}=${count(p[k])}`)
    .join(' ');
}

function main(files) {
  if (files.length === 0) {
    console.error('usage: node bench/summarize.js run1.json [run2.json …]');
    process.exit(2);
  }
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const groups = new Map();
  for (const run of runs) {
    for (const r of run.records) {
      const key = `${r.name}|${describe(r.params ?? {})}|${r.baseline ?? ''}`;
      if (!groups.has(key))
        groups.set(key, {
          name: r.name,
          config: describe(r.params ?? {}),
          unit: r.unit,
          baseline: r.baseline ?? '',
          values: [],
          baselines: [],
          ratios: [],
        });
      const g = groups.get(key);
      g.values.push(r.value);
      if (r.baselineValue !== undefined) g.baselines.push(r.baselineValue);
      if (r.ratio !== undefined) g.ratios.push(r.ratio);
    }
  }
  const m = runs[0].machine;
  const commits = [...new Set(runs.map((r) => r.machine.commit.slice(0, 7)))].join(', ');
  const dates = runs.map((r) => r.machine.date.slice(0, 16).replace('T', ' ')).join('; ');
  console.log(
    `Runs: ${runs.length} (${dates} UTC), commit ${commits}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, isa ${m.isa}, Node ${m.node}, load average at start ${runs.map((r) => r.machine.loadAverage1m).join(' / ')}.`,
  );
  const byArea = new Map();
  for (const g of groups.values()) {
    const area = g.name.split('/')[0];
    if (!byArea.has(area)) byArea.set(area, []);
    byArea.get(area).push(g);
  }
  for (const [area, list] of byArea) {
    console.log(`\n### ${area}\n`);
    console.log('| benchmark | case | median | (min–max) | unit | baseline | baseline median | ratio (median) |');
    console.log('| --- | --- | ---: | --- | --- | --- | ---: | ---: |');
    for (const g of list) {
      const spread = g.values.length > 1 ? `${number(Math.min(...g.values))}–${number(Math.max(...g.values))}` : '';
      const ratio = g.ratios.length ? `${number(median(g.ratios))}×` : '';
      console.log(
        `| ${g.name.slice(area.length + 1)} | ${g.config} | ${number(median(g.values))} | ${spread} | ${g.unit} | ${g.baseline} | ${g.baselines.length ? number(median(g.baselines)) : ''} | ${ratio} |`,
      );
    }
  }
}

main(process.argv.slice(2));
