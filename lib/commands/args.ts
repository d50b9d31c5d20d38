/**
 * Flag parsing for the CLI commands, on Node's `util.parseArgs`: each command declares its flags
 * once, and the declaration gives the parser, the `--help` text, the checks (unknown flag with a
 * suggestion, a flag given twice, a missing value) and typed getters whose errors name the flag.
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  /** The command whose usage the error concerns (its help is printed after the message). */
  command?: string;
}

export interface FlagSpec {
  /** 'string' (the default) takes a value; 'boolean' is a switch. */
  type?: 'string' | 'boolean';
  /** The value's name in the help text (FILE, N, a,b). */
  value?: string;
  help: string;
  short?: string;
}

export interface CommandSpec {
  name: string;
  /** One line for `recbridge --help`. */
  summary: string;
  /** What follows `recbridge <name>` in the usage line, e.g. `FILE [--json]`; generated when absent. */
  synopsis?: string;
  flags: Record<string, FlagSpec>;
  /** Names of positional arguments; more than these is an error. `...` at the end of the last one means any number. */
  positionals?: string[];
  /** Paragraphs after the flag list: defaults, formats, examples. */
  notes?: string;
  run(args: Args): Promise<number>;
}

/** Parsed flags with typed getters; every getter's error names the flag and what it expects. */
export class Args {
  constructor(
    readonly command: string,
    private readonly values: Record<string, string | boolean | undefined>,
    readonly positionals: string[],
    /** The flags as given, in order, for the provenance record. */
    readonly given: Record<string, string | boolean>,
  ) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.values[name] === true;
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  int(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw this.error(`Expected integer in [${min}, ${max}] for --${name} but received ${JSON.stringify(raw)}`);
    return n;
  }

  number(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(n) || n < min || n > max)
      throw this.error(`Expected number in [${min}, ${max}] for --${name} but received ${JSON.stringify(raw)}`);
    return n;
  }

  /** A comma-separated list: `--k 5,10,20`. */
  list(name: string): string[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0) throw this.error(`Expected a comma-separated list for --${name} but received ${JSON.stringify(raw)}`);
    return items;
  }

  ints(name: string, min: number, max: number): number[] | undefined {
    return this.list(name)?.map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max)
        throw this.error(`Expected comma-separated integers in [${min}, ${max}] for --${name} but received ${JSON.stringify(s)}`);
      return n;
    });
  }

  choice<T extends string>(name: string, options: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!(options as readonly string[]).includes(raw))
      throw this.error(`Expected one of ${options.join(', ')} for --${name} but received ${JSON.stringify(raw)}${suggest(raw, options)}`);
    return raw as T;
  }

  /** The one positional argument `name`, required. */
  positional(index: number, name: string): string {
    const v = this.positionals[index];
    if (v === undefined) throw this.error(`Expected ${name}`);
    return v;
  }

  error(message: string): UsageError {
    const e = new UsageError(message);
    e.command = this.command;
    return e;
  }
}

const HELP: FlagSpec = { type: 'boolean', short: 'h', help: 'this help' };
/** Every command takes --quiet (scripts pass it everywhere); it silences what goes to stderr besides errors. */
const QUIET: FlagSpec = { type: 'boolean', short: 'q', help: 'nothing on stderr but errors (no progress, no notes)' };

/** ` (did you mean --x?)` when one known name is close to `given`, else ''. */
export function suggest(given: string, known: readonly string[], prefix = ''): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = k.startsWith(given) || given.startsWith(k) ? 1 : editDistance(given, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(given.length / 3));
  return best !== undefined && bestDistance <= limit ? ` (did you mean ${prefix}${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Parses `argv` against the command's flags. `--help` is added to every command; a `help: true`
 * result means the caller prints `commandHelp(spec)` instead of running.
 */
export function parseCommand(spec: CommandSpec, argv: string[]): Args | { help: true } {
  const flags: Record<string, FlagSpec> = { quiet: QUIET, ...spec.flags, help: HELP };
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, f]) => [name, { type: f.type ?? 'string', ...(f.short ? { short: f.short } : {}) }]),
  ) as Record<string, { type: 'string' | 'boolean'; short?: string }>;
  const fail = (message: string) => {
    const e = new UsageError(message);
    e.command = spec.name;
    return e;
  };
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; tokens: true; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'(-[^']*)'/.exec(e.message)?.[1] ?? '';
      const name = flag.replace(/^-+/, '').split('=')[0] ?? '';
      throw fail(`Unknown flag ${flag} for ${spec.name}${suggest(name, Object.keys(flags), '--')}`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /'--([\w-]+)/.exec(e.message)?.[1];
      const f = flag === undefined ? undefined : flags[flag];
      if (flag !== undefined && f?.type === 'boolean') throw fail(`--${flag} is a switch and takes no value`);
      throw fail(flag === undefined ? e.message : `Expected a value for --${flag}${f?.value ? ` (${f.value})` : ''}`);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw fail(e.message);
    throw err;
  }
  const seen = new Set<string>();
  const given: Record<string, string | boolean> = {};
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) throw fail(`--${t.name} is given more than once`);
    seen.add(t.name);
    given[t.name] = t.value ?? true;
  }
  if (parsed.values.help === true) return { help: true };
  const names = spec.positionals ?? [];
  const variadic = names[names.length - 1]?.endsWith('...') ?? false;
  if (!variadic && parsed.positionals.length > names.length) {
    const extra = parsed.positionals[names.length] ?? '';
    throw fail(
      names.length === 0
        ? `${spec.name} takes no positional arguments but received ${JSON.stringify(extra)}`
        : `Unexpected argument ${JSON.stringify(extra)} (${spec.name} takes ${names.join(' ')})`,
    );
  }
  return new Args(spec.name, parsed.values as Record<string, string | boolean | undefined>, parsed.positionals, given);
}

/** `recbridge <name> --help`: the usage line, the summary, every flag, and the notes. */
export function commandHelp(spec: CommandSpec): string {
  const flagNames = Object.keys(spec.flags);
  const synopsis = spec.synopsis ?? [...(spec.positionals ?? []), ...(flagNames.length ? ['[options]'] : [])].filter(Boolean).join(' ');
  const rows = Object.entries({ ...spec.flags, quiet: spec.flags.quiet ?? QUIET, help: HELP }).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'boolean' ? '' : ` ${f.value ?? 'VALUE'}`}`;
    return [left, f.help] as const;
  });
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)));
  const lines = [`usage: recbridge ${spec.name} ${synopsis}`.trimEnd(), '', spec.summary, '', 'options:'];
  for (const [left, help] of rows) {
    const pad = left.length > width ? `\n${' '.repeat(width + 4)}` : ' '.repeat(width - left.length + 2);
    lines.push(`  ${left}${pad}${help.replace(/\n/g, `\n${' '.repeat(width + 4)}`)}`);
  }
  if (spec.notes) lines.push('', spec.notes.trim());
  return lines.join('\n');
}
