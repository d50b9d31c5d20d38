/**
 * `recbridge report`: the HTML report re-rendered from a JSON result of `evaluate` or `transfer`
 * (after an upgrade, or to re-render a run made elsewhere) without re-running anything.
 */
import * as fs from 'node:fs/promises';

import type { FitReport } from '../train/trainer';
import type { LiftReport } from '../transfer/lift';
import { renderLiftReport } from '../transfer/lift-report';
import type { Args, CommandSpec } from './args';
import { evaluationReport } from './evaluate-output';
import type { EvaluateResult } from './evaluate-result';
import { requireFiles } from './input';
import { writeOutput } from './output';

export const reportCommand: CommandSpec = {
  name: 'report',
  summary: 'the HTML report from a JSON result of evaluate or transfer',
  synopsis: 'RESULT.json --out report.html [--log training-log.json]',
  positionals: ['RESULT.json'],
  flags: {
    out: { value: 'FILE', help: 'the HTML file to write (- for stdout)' },
    log: { value: 'FILE', help: 'evaluate: the training log (--log of evaluate) for the learning curves' },
  },
  run,
};

async function readJson(args: Args, file: string, what: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw args.error(`${file} is not valid JSON (${(err as Error).message}); expected ${what}`);
  }
  if (parsed === null || typeof parsed !== 'object') throw args.error(`${file} holds no JSON object; expected ${what}`);
  return parsed as Record<string, unknown>;
}

async function run(args: Args): Promise<number> {
  const file = args.positional(0, 'a JSON result: recbridge report RESULT.json --out report.html');
  const out = args.string('out');
  if (out === undefined) throw args.error('Expected --out FILE (or - for stdout)');
  const logFile = args.string('log');
  requireFiles(args, { 'RESULT.json': file, log: logFile });
  const json = await readJson(args, file, 'the --json output of recbridge evaluate or transfer');
  let html: string;
  if (Array.isArray(json.results) && typeof json.alignment === 'object') {
    if (logFile) throw args.error('--log goes with an evaluate result; this is a transfer result');
    const command = (json.provenance as { command?: string } | undefined)?.command ?? (json.command as string | undefined);
    html = renderLiftReport(json as unknown as LiftReport, command ? { command } : {});
  } else if (json.models && typeof json.models === 'object' && Array.isArray(json.ks)) {
    const logs = logFile ? await readJson(args, logFile, 'the --log output of recbridge evaluate') : [];
    if (!Array.isArray(logs)) throw args.error(`${logFile} is not a training log (an array of { model, seed, report })`);
    html = evaluationReport(json as unknown as EvaluateResult, logs as { model: string; seed: number; report: FitReport }[]);
  } else {
    throw args.error(`${file} is neither an evaluate nor a transfer result (no "models"/"ks" nor "results"/"alignment")`);
  }
  await writeOutput(out, html);
  if (out !== '-' && !args.bool('quiet')) console.error(`wrote ${out}`);
  return 0;
}
