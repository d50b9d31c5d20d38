/** `recbridge info` (kernels, threads and versions) and `recbridge bench` (the suite, from a checkout). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { capabilities } from '../core/config';
import type { CommandSpec } from './args';
import { packageVersion } from './provenance';

export const info: CommandSpec = {
  name: 'info',
  summary: 'kernels, threads and versions in use (JSON)',
  flags: {},
  async run() {
    console.log(JSON.stringify({ recbridge: packageVersion(), node: process.version, ...capabilities() }, null, 2));
    return 0;
  },
};

export const bench: CommandSpec = {
  name: 'bench',
  summary: 'run the benchmark suite (from a source checkout)',
  flags: {
    quick: { type: 'boolean', help: 'fewer repetitions: a smoke run, not figures to quote' },
    filter: { value: 'NAME', help: 'only the cases whose name contains NAME' },
    list: { type: 'boolean', help: 'list the cases and exit' },
    out: { value: 'FILE', help: 'also write the results as JSON' },
  },
  notes: 'Each benchmark prints its ratio against peers measured in the same run; see docs/benchmarks.md.',
  async run(args) {
    const runner = path.join(__dirname, '..', '..', 'bench', 'run.js');
    if (!fs.existsSync(runner)) {
      console.error(
        'The benchmark suite ships with the source repository, not the npm package: run it from a checkout with `npm run bench`.',
      );
      return 2;
    }
    const forward = Object.entries(args.given).flatMap(([k, v]) => (v === true ? [`--${k}`] : [`--${k}`, String(v)]));
    return spawnSync(process.execPath, [runner, ...forward], { stdio: 'inherit' }).status ?? 1;
  },
};
