/**
 * The `recbridge` command line. Commands grow with the library; each parses its own flags and
 * reports bad ones with the same message shape as the API.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { capabilities } from '../core/config';
import { runDemo } from './demo';
import { transferCommand } from './transfer';
import { UsageError, intFlag, noMoreArgs, type Command } from './args';
import { evaluate } from './evaluate';
import { inspect } from './inspect';

/** Commands that live in lib/commands/<name>.ts (each adds its usage lines to the help text). */
const COMMANDS: Record<string, Command> = { transfer: transferCommand, evaluate, inspect };

const USAGE = `usage: recbridge <command> [options]

commands:
  demo [--report out.html]                           the transfer demo: lift report on generated domains
  demo --scoring [--items N] [--dim D] [--users U] [--seed S]
                                                     scoring demo on generated data
${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join('\n')}
  info                                               kernels, threads and versions in use
  bench [--quick] [--filter NAME]                    run the benchmark suite (from a source checkout)
  help                                               this text`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = [...rest];
  try {
    switch (command) {
      case 'demo': {
        if (!args.includes('--scoring')) return await transferCommand.run(['--demo', ...args]);
        args.splice(args.indexOf('--scoring'), 1);
        const items = intFlag(args, 'items', 1, 50_000_000);
        const dim = intFlag(args, 'dim', 1, 4096);
        const users = intFlag(args, 'users', 1, 1_000_000);
        const seed = intFlag(args, 'seed', 0, 2 ** 32 - 1);
        noMoreArgs(args);
        const report = await runDemo({ items, dim, users, seed });
        return report.bruteForceAgrees ? 0 : 1;
      }
      case 'info': {
        noMoreArgs(args);
        const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
        console.log(JSON.stringify({ recbridge: pkg.version, node: process.version, ...capabilities() }, null, 2));
        return 0;
      }
      case 'bench': {
        const runner = path.join(__dirname, '..', '..', 'bench', 'run.js');
        if (!fs.existsSync(runner)) {
          console.error(
            'The benchmark suite ships with the source repository, not the npm package: run it from a checkout with `npm run bench`.',
          );
          return 2;
        }
        return spawnSync(process.execPath, [runner, ...args], { stdio: 'inherit' }).status ?? 1;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default: {
        const found = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
        if (found) return await found.run(args);
        throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`recbridge: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
