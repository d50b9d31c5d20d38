/**
 * Flag parsing shared by the CLI commands: each command takes its flags out of the argument list
 * and reports a bad one with the same message shape as the API.
 */
export class UsageError extends Error {}

/** Removes `--name <value>` and returns the value, or undefined when absent. */
export function stringFlag(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const raw = args[at + 1];
  if (raw === undefined || raw.startsWith('--')) throw new UsageError(`Expected a value for --${name}`);
  args.splice(at, 2);
  return raw;
}

export function intFlag(args: string[], name: string, min: number, max: number): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`Expected integer in [${min}, ${max}] for --${name} but received ${JSON.stringify(raw)}`);
  }
  return n;
}

export function numberFlag(args: string[], name: string, min: number, max: number): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`Expected number in [${min}, ${max}] for --${name} but received ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A comma-separated list: `--k 5,10,20`. */
export function listFlag(args: string[], name: string): string[] | undefined {
  const raw = stringFlag(args, name);
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

/** Removes a bare `--name` switch and says whether it was there. */
export function boolFlag(args: string[], name: string): boolean {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return false;
  args.splice(at, 1);
  return true;
}

export function noMoreArgs(args: string[]): void {
  if (args.length) throw new UsageError(`Unknown argument ${JSON.stringify(args[0])}`);
}

/** A CLI command: its usage lines and what it does with its arguments (exit code). */
export interface Command {
  usage: string;
  run(args: string[]): Promise<number>;
}
