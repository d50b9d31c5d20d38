'use strict';
// The results file and the human-readable table.
const fs = require('node:fs');
const path = require('node:path');

function writeResults(file, results) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

function count(n) {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

function number(x) {
  if (x === undefined || x === null) return '';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

/** The parameters that tell records of one case apart, compactly. */
function config(p) {
  const parts = [];
  if (p.queries !== undefined) parts.push(`q=${count(p.queries)}`);
  if (p.rows !== undefined) parts.push(`n=${count(p.rows)}`);
  if (p.dim !== undefined) parts.push(`d=${p.dim}`);
  if (p.k !== undefined) parts.push(`k=${p.k}`);
  if (p.threads !== undefined) parts.push(`t=${p.threads}`);
  if (p.path !== undefined) parts.push(p.path);
  if (p.optimizer !== undefined) parts.push(p.optimizer);
  return parts.join(' ');
}

function formatTable(records) {
  const header = ['benchmark', 'config', 'value', 'unit', 'baseline', 'baseline value', 'ratio'];
  const rows = records.map((r) => [
    r.name,
    config(r.params ?? {}),
    number(r.value),
    r.unit,
    r.baseline ?? (r.params?.baselineSkipped ? '(skipped)' : ''),
    number(r.baselineValue),
    r.ratio === undefined ? '' : `${number(r.ratio)}x`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const numeric = new Set([2, 5, 6]);
  const line = (cells) =>
    cells
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

module.exports = { writeResults, formatTable };
