/**
 * The `recbridge` command line: a registry of declared commands. Each command's flags give its
 * parser and its `--help`; this file only dispatches and turns usage errors into exit code 2.
 */
import { UsageError, commandHelp, parseCommand, suggest, type CommandSpec } from './args';
import { bench, info } from './info';
import { evaluate } from './evaluate';
import { exportCommand } from './export';
import { inspect } from './inspect';
import { packageVersion } from './provenance';
import { recommend } from './recommend';
import { reportCommand } from './report';
import { serve } from './serve';
import { similar } from './similar';
import { train } from './train';
import { demo, transferCommand } from './transfer';

/** In the order `recbridge --help` lists them: the path from a file to a served model first. */
export const COMMANDS: readonly CommandSpec[] = [
  train,
  evaluate,
  recommend,
  similar,
  exportCommand,
  serve,
  inspect,
  transferCommand,
  reportCommand,
  demo,
  info,
  bench,
];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: recbridge <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    '`recbridge <command> --help` describes a command and its flags; `recbridge --version` prints the version.',
    'Outputs given as - go to standard output. Progress goes to standard error (--quiet silences it).',
  ].join('\n');
}

function find(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    switch (name) {
      case undefined:
        console.error(topHelp());
        return 2;
      case 'help':
      case '--help':
      case '-h': {
        const topic = name === 'help' ? rest[0] : undefined;
        if (topic === undefined) {
          console.log(topHelp());
          return 0;
        }
        const spec = find(topic);
        if (!spec)
          throw new UsageError(
            `Unknown command ${JSON.stringify(topic)}${suggest(
              topic,
              COMMANDS.map((c) => c.name),
            )}`,
          );
        console.log(commandHelp(spec));
        return 0;
      }
      case 'version':
      case '--version':
      case '-v':
        console.log(packageVersion());
        return 0;
    }
    const spec = find(name);
    if (!spec) {
      const hint = name.startsWith('-')
        ? ' (flags go after the command)'
        : suggest(
            name,
            COMMANDS.map((c) => c.name),
          );
      throw new UsageError(`Unknown command ${JSON.stringify(name)}${hint}`);
    }
    const args = parseCommand(spec, rest);
    if ('help' in args) {
      console.log(commandHelp(spec));
      return 0;
    }
    return await spec.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      const spec = err.command === undefined ? undefined : find(err.command);
      const hint = spec ? `run \`recbridge ${spec.name} --help\` for its flags` : 'run `recbridge --help` for the commands';
      console.error(`recbridge${spec ? ` ${spec.name}` : ''}: ${err.message}\n${hint}`);
      return 2;
    }
    // A failed run (bad data, a damaged file, an unknown id): the error's code and message, exit 1.
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && typeof e.message === 'string') {
      console.error(`recbridge ${name}: [${e.code}] ${e.message}`);
      return 1;
    }
    throw err;
  }
}
