/**
 * `recbridge transfer`: the lift report from the command line — on generated demo data (--demo) or
 * on two interaction files whose users share ids (or a link table). Prints the table, and writes
 * JSON (--json) and the HTML report (--report).
 */
import * as fs from 'node:fs';

import { loadFeatures } from '../data/load-features';
import { loadInteractions, type LoadInteractionsOptions } from '../data/load-interactions';
import { loadLinks } from '../data/load-links';
import { Domain, entityFeatures } from '../transfer/domain';
import { transfer, type LiftReport } from '../transfer/lift';
import { renderLiftReport } from '../transfer/lift-report';
import { formatLiftTable } from '../transfer/lift-table';
import { STRATEGY_NAMES } from '../transfer/strategies';
import { syntheticDomains } from '../transfer/synthetic';
import { UsageError, boolFlag, intFlag, listFlag, noMoreArgs, numberFlag, stringFlag, type Command } from './args';

const FORMATS = ['recbole', 'tsv', 'csv', 'whitespace', 'movielens'];

export const transferCommand: Command = {
  usage: `  transfer (--demo | --source F --target F) [--format F] [--user-links F] [--user-features F]
           [--strategies a,b] [--seeds N] [--cold-fraction X] [--cold-shots N] [--dim D]
           [--epochs N] [--k K] [--sampled N] [--threads T] [--json out.json] [--report out.html]
                                                     lift report: strategies vs popularity and target-only
                                                     (strategies: ${STRATEGY_NAMES.join(', ')})`,
  async run(args) {
    const demo = boolFlag(args, 'demo');
    const sourcePath = stringFlag(args, 'source');
    const targetPath = stringFlag(args, 'target');
    const format = stringFlag(args, 'format');
    const linksPath = stringFlag(args, 'user-links');
    const featuresPath = stringFlag(args, 'user-features');
    const strategies = listFlag(args, 'strategies');
    const seeds = intFlag(args, 'seeds', 1, 100);
    const coldFraction = numberFlag(args, 'cold-fraction', 0.01, 0.9);
    const coldShots = intFlag(args, 'cold-shots', 0, 1000);
    const dim = intFlag(args, 'dim', 1, 4096);
    const epochs = intFlag(args, 'epochs', 1, 100_000);
    const k = intFlag(args, 'k', 1, 10_000);
    const users = intFlag(args, 'users', 10, 10_000_000);
    const sampled = intFlag(args, 'sampled', 1, 1_000_000);
    const threads = intFlag(args, 'threads', 1, 256);
    const json = stringFlag(args, 'json');
    const report = stringFlag(args, 'report');
    noMoreArgs(args);
    if (format !== undefined && !FORMATS.includes(format))
      throw new UsageError(`Expected one of ${FORMATS.join(', ')} for --format but received ${JSON.stringify(format)}`);
    for (const s of strategies ?? [])
      if (!STRATEGY_NAMES.includes(s))
        throw new UsageError(`Unknown strategy ${JSON.stringify(s)} in --strategies (choose from ${STRATEGY_NAMES.join(', ')})`);
    if (demo === (sourcePath !== undefined || targetPath !== undefined))
      throw new UsageError('Give either --demo or both --source and --target');
    if (!demo && (sourcePath === undefined || targetPath === undefined)) throw new UsageError('Give both --source and --target');

    let source: Domain;
    let target: Domain;
    if (demo) {
      ({ source, target } = syntheticDomains({ users, seed: 1 }));
    } else {
      const opts = { format: format as LoadInteractionsOptions['format'] };
      const s = await loadInteractions(sourcePath!, opts);
      const t = await loadInteractions(targetPath!, opts);
      source = new Domain({ name: sourcePath!, interactions: s.interactions, users: s.users, items: s.items });
      const userFeatures = featuresPath ? entityFeatures((await loadFeatures(featuresPath, { entities: t.users })).features) : undefined;
      target = new Domain({ name: targetPath!, interactions: t.interactions, users: t.users, items: t.items, userFeatures });
    }
    const userLinks = linksPath ? (await loadLinks(linksPath)).pairs : undefined;
    const started = Date.now();
    const result: LiftReport = await transfer(source, target, {
      strategies,
      seeds: seeds ?? 3,
      coldFraction,
      coldShots,
      align: userLinks ? { users: 'links', userLinks } : undefined,
      sampled: sampled ? { negatives: sampled } : undefined,
      settings: {
        ...(demo ? { dim: 32 } : {}),
        ...(dim ? { dim } : {}),
        ...(epochs ? { epochs } : {}),
        ...(k ? { k } : {}),
        ...(threads ? { threads } : {}),
      },
      onProgress: (e) => process.stderr.write(`\r[${e.index + 1}/${e.total}] seed ${e.seed}: ${e.strategy}`.padEnd(60)),
    });
    process.stderr.write(`${'\r'.padEnd(61)}\r`);
    console.log(formatLiftTable(result));
    const command = `recbridge transfer ${process.argv.slice(3).join(' ')}`.trim();
    if (json) fs.writeFileSync(json, JSON.stringify({ command, ...result }, null, 1));
    if (report) fs.writeFileSync(report, renderLiftReport(result, { command }));
    if (json || report)
      console.log(`wrote ${[json, report].filter(Boolean).join(' and ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  },
};
