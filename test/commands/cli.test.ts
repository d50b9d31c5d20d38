/**
 * The command line as a user meets it, run as a real process: help for every command, flag errors,
 * the path from a headered CSV to recommendations, `-` for stdout, the run record, reproducibility,
 * inspect --verify on a damaged file, and transfer with a given split and --save.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { commandHelp, parseCommand, type CommandSpec } from '../../lib/commands/args';
import { uniformGenerator } from '../../lib/core/random';
import { COMMANDS, main } from '../../lib/commands/cli';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'recbridge.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', input, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const COLUMNS = ['--user-col', 'userId', '--item-col', 'movieId'];

// 200 users in two taste groups over 60 movies whose titles hold commas and quotes.
function writeRatings(file: string): void {
  const rand = uniformGenerator(3);
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 200; u++) {
    const picked = new Set<number>();
    while (picked.size < 10) picked.add((u % 2) * 30 + Math.floor(rand() * 30));
    for (const m of picked) lines.push(`${u},m${m},${1 + Math.floor(rand() * 5)}.0,${1000 + m}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

const ratings = path.join(dir, 'ratings.csv');
beforeAll(() => writeRatings(ratings));

describe('flags and help', () => {
  test('every command has --help that lists every flag, and exits 0', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(
      expect.arrayContaining(['train', 'evaluate', 'recommend', 'similar', 'export', 'inspect', 'transfer', 'report']),
    );
    for (const spec of COMMANDS) {
      const r = cli([spec.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`usage: recbridge ${spec.name}`);
      for (const flag of Object.keys(spec.flags)) expect(r.out).toContain(`--${flag}`);
      expect(cli(['help', spec.name]).out).toBe(r.out);
    }
  });

  test('--version prints the package version; no command prints the commands and exits 2', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(cli(['--version']).out.trim()).toBe(pkg.version);
    const none = cli([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('train');
  });

  test('unknown flags and commands get a suggestion; repeated flags, missing values and switch values are errors', () => {
    const unknown = cli(['evaluate', '--sedds', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Unknown flag --sedds for evaluate (did you mean --seeds?)');
    expect(cli(['evalute']).err).toContain('did you mean evaluate?');
    expect(cli(['evaluate', '--seeds', '3', '--seeds', '4']).err).toContain('--seeds is given more than once');
    expect(cli(['evaluate', '--data']).err).toContain('Expected a value for --data');
    expect(cli(['evaluate', '--loo=yes']).err).toContain('--loo is a switch and takes no value');
    expect(cli(['evaluate', '--data', ratings, '--seeds=0']).err).toContain('Expected integer in [1, 100] for --seeds but received "0"');
    expect(cli(['inspect', 'a', 'b']).err).toContain('Unexpected argument "b"');
    expect(cli(['train', '--data', path.join(dir, 'nope.csv'), '--out', 'm']).err).toContain('No such file for --data');
  });

  test('--flag=value equals --flag value', () => {
    const spec: CommandSpec = { name: 't', summary: 's', flags: { k: { help: 'k' } }, run: async () => 0 };
    const a = parseCommand(spec, ['--k=7']);
    const b = parseCommand(spec, ['--k', '7']);
    expect('help' in a || 'help' in b).toBe(false);
    if ('help' in a || 'help' in b) return;
    expect(a.int('k', 1, 10)).toBe(7);
    expect(b.int('k', 1, 10)).toBe(7);
    expect(commandHelp(spec)).toContain('--k VALUE');
  });

  test('usage errors return 2 in process as well', async () => {
    const err = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['recommend', '--model'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});

describe('from a ratings CSV to recommendations', () => {
  const model = path.join(dir, 'movies.safetensors');

  test('train writes a model with ids and a run record that fingerprints the input', () => {
    const r = cli([
      'train',
      '--data',
      ratings,
      ...COLUMNS,
      '--value-col',
      'rating',
      '--min-value',
      '3',
      '--validation-split',
      '0.2',
      '--dim',
      '8',
      '--epochs',
      '15',
      '--out',
      model,
      '--json',
      '-',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { provenance: Record<string, unknown>; training: { epochs: number } };
    const p = json.provenance as {
      recbridge: string;
      isa: string;
      threads: number;
      reproducible: boolean;
      inputs: { path: string; sha256: string; bytes: number }[];
      command: string;
    };
    expect(p.recbridge).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof p.isa).toBe('string');
    expect(p.threads).toBe(1);
    expect(p.reproducible).toBe(true);
    expect(p.command).toContain('recbridge train --data');
    expect(p.inputs).toEqual([
      { path: ratings, bytes: fs.statSync(ratings).size, sha256: createHash('sha256').update(fs.readFileSync(ratings)).digest('hex') },
    ]);
    expect(json.training.epochs).toBeGreaterThan(0);
    expect(fs.existsSync(model)).toBe(true);
  });

  test('train --out - writes the model to stdout, byte for byte what a file would hold', () => {
    const r = spawnSync(
      process.execPath,
      [BIN, 'train', '--data', ratings, ...COLUMNS, '--dim', '4', '--epochs', '2', '--out', '-', '--quiet'],
      { cwd: dir },
    );
    expect(r.status).toBe(0);
    const piped = path.join(dir, 'piped.safetensors');
    fs.writeFileSync(piped, r.stdout);
    expect(cli(['inspect', '--verify', piped]).out).toContain('verified: every checksum matches');
    expect(cli(['train', '--data', ratings, '--out', '-', '--json', '-']).err).toContain('Only one output can be stdout');
  });

  test('the same training command twice gives the same model bytes (one thread by default)', () => {
    const again = path.join(dir, 'again.safetensors');
    expect(cli(['train', '--data', ratings, ...COLUMNS, '--dim', '8', '--epochs', '5', '--out', again, '--quiet']).code).toBe(0);
    const twice = path.join(dir, 'twice.safetensors');
    expect(cli(['train', '--data', ratings, ...COLUMNS, '--dim', '8', '--epochs', '5', '--out', twice, '--quiet']).code).toBe(0);
    const tensors = (f: string) => {
      const bytes = fs.readFileSync(f);
      const headerLength = Number(bytes.readBigUInt64LE(0));
      return bytes.subarray(8 + headerLength);
    };
    expect(Buffer.compare(tensors(again), tensors(twice))).toBe(0);
  });

  test('evaluate twice with the default settings gives identical numbers; --threads 2 says it may not', () => {
    const args = [
      'evaluate',
      '--data',
      ratings,
      ...COLUMNS,
      '--models',
      'bpr',
      '--seeds',
      '2',
      '--epochs',
      '8',
      '--dim',
      '8',
      '--json',
      '-',
      '--quiet',
    ];
    // Everything but the timings.
    const metrics = (out: string) =>
      JSON.parse(out, (key, value) => (key === 'seconds' ? undefined : value)) as {
        models: unknown;
        provenance: { reproducible: boolean };
      };
    const a = metrics(cli(args).out);
    const b = metrics(cli(args).out);
    expect(a.provenance.reproducible).toBe(true);
    expect(JSON.stringify(a.models)).toContain('ndcg');
    expect(b.models).toEqual(a.models);
    const threaded = cli([...args.slice(0, -3), '--threads', '2']);
    expect(threaded.err).toContain('--threads 1 makes them reproducible');
  });

  test('evaluate --model scores a saved model on a test file', () => {
    // Every fifth rating held out as the test file, the rest as the seen items to mask.
    const [header, ...rows] = fs.readFileSync(ratings, 'utf8').trim().split('\n');
    fs.writeFileSync(path.join(dir, 'held.csv'), `${[header, ...rows.filter((_, i) => i % 5 === 0)].join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'kept.csv'), `${[header, ...rows.filter((_, i) => i % 5 !== 0)].join('\n')}\n`);
    const r = cli([
      'evaluate',
      '--model',
      model,
      '--test',
      'held.csv',
      '--train',
      'kept.csv',
      ...COLUMNS,
      '--k',
      '5',
      '--json',
      '-',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { models: Record<string, { runs: { all: { users: number } }[] }>; protocol: string };
    const [run] = Object.values(json.models)[0]!.runs;
    expect(run!.all.users).toBeGreaterThan(0);
    expect(json.protocol).toContain('masked');
    expect(cli(['evaluate', '--model', model, ...COLUMNS]).err).toContain('--model evaluates on --test FILE');
    expect(cli(['evaluate', '--model', model, '--test', ratings, '--train', ratings, ...COLUMNS]).err).toContain(
      '--train and --test are the same file',
    );
  });

  test('recommend reads users from stdin, excludes seen items, and writes JSONL or CSV', () => {
    const r = cli(
      ['recommend', '--model', model, '--users', '-', '--seen', ratings, ...COLUMNS, '--k', '4', '--quiet'],
      '1\n2\nstranger\n',
    );
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { user: string; items: string[]; strategy: string });
    expect(lines.map((l) => l.user)).toEqual(['1', '2', 'stranger']);
    expect(lines[2]!.strategy).toBe('popularity');
    const seen = new Set(
      fs
        .readFileSync(ratings, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('1,'))
        .map((l) => l.split(',')[1]),
    );
    for (const item of lines[0]!.items) expect(seen.has(item)).toBe(false);
    expect(lines[0]!.items).toHaveLength(4);
    const csv = cli(['recommend', '--model', model, '1', '--k', '2', '--format', 'csv']);
    expect(csv.out.split('\n')[0]).toBe('user,rank,item,score');
    expect(csv.out.trim().split('\n')).toHaveLength(3);
  });

  test('an unknown user without --seen is an error, and a failed run leaves the previous output intact', () => {
    const out = path.join(dir, 'recs.jsonl');
    fs.writeFileSync(out, 'previous\n');
    const r = cli(['recommend', '--model', model, '1', 'stranger', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('recbridge recommend: [ERR_OUT_OF_RANGE] Expected a user id the model knows; with --seen FILE');
    expect(r.err).toContain('"stranger"');
    expect(fs.readFileSync(out, 'utf8')).toBe('previous\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('similar, export to stdout and to files, report re-rendering', () => {
    const s = cli(['similar', '--model', model, 'm3', '--k', '3']);
    expect(s.code).toBe(0);
    expect((JSON.parse(s.out) as { items: string[] }).items).toHaveLength(3);
    const csv = cli(['export', '--model', model, '--to', 'csv', '--out', '-']);
    expect(csv.code).toBe(0);
    expect(csv.out.split('\n')[0]).toBe(`id,${Array.from({ length: 8 }, (_, i) => `v${i}`).join(',')}`);
    const npy = cli(['export', '--model', model, '--out', path.join(dir, 'items.npy'), '--ids', path.join(dir, 'items.txt')]);
    expect(npy.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'items.npy')).subarray(1, 6).toString()).toBe('NUMPY');
    expect(fs.readFileSync(path.join(dir, 'items.txt'), 'utf8').split('\n')).toContain('m3');
    expect(cli(['export', '--model', model, '--out', path.join(dir, 'x.bin')]).err).toContain('Give --to');
    const unknown = cli(['similar', '--model', model, 'no-such-item']);
    expect([unknown.code, unknown.err.trim()]).toEqual([
      1,
      'recbridge similar: [ERR_OUT_OF_RANGE] Expected an item id the model knows (60 items) for item but received "no-such-item"',
    ]);
    const quiet = cli(['export', '--model', model, '--out', path.join(dir, 'quiet.jsonl'), '--quiet']);
    expect([quiet.code, quiet.err]).toEqual([0, '']);
    const evalJson = path.join(dir, 'eval.json');
    expect(cli(['evaluate', '--data', ratings, ...COLUMNS, '--models', 'pop', '--seeds', '1', '--json', evalJson, '--quiet']).code).toBe(0);
    const html = cli(['report', evalJson, '--out', '-']);
    expect(html.code).toBe(0);
    expect(html.out).toContain('<html');
    fs.writeFileSync(path.join(dir, 'other.json'), '{"hello": 1}');
    expect(cli(['report', path.join(dir, 'other.json'), '--out', '-']).err).toContain('neither an evaluate nor a transfer result');
  });

  test('inspect --verify exits 1 on a bit-flipped file that inspect alone accepts', () => {
    const damaged = path.join(dir, 'damaged.safetensors');
    const bytes = fs.readFileSync(model);
    bytes[bytes.length - 5]! ^= 0x10;
    fs.writeFileSync(damaged, bytes);
    expect(cli(['inspect', damaged]).code).toBe(0);
    const r = cli(['inspect', '--verify', damaged]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^recbridge inspect: \[ERR_CORRUPT_FILE\] .*damaged\.safetensors is corrupt/);
    expect(cli(['inspect', '--verify', model]).out).toContain('verified: every checksum matches');
  });
});

describe('transfer with a given split', () => {
  test('the demo twice gives the same numbers', () => {
    const args = [
      'demo',
      '--users',
      '120',
      '--seeds',
      '1',
      '--strategies',
      'fine-tune,mapping-linear,content',
      '--dim',
      '8',
      '--epochs',
      '10',
      '--json',
      '-',
      '--quiet',
    ];
    const numbers = (out: string) =>
      JSON.parse(out, (key, value) => (key === 'seconds' || key === 'provenance' ? undefined : value)) as unknown;
    const a = cli(args);
    expect(a.code).toBe(0);
    expect(numbers(cli(args).out)).toEqual(numbers(a.out));
  });

  // Source and target share users "u0".."u59"; the target's test file holds 10 users with no train rows.
  function writeDomains() {
    const src: string[] = [];
    const train: string[] = [];
    const validation: string[] = [];
    const test: string[] = [];
    for (let u = 0; u < 60; u++) {
      const g = u % 2;
      for (let j = 0; j < 8; j++) src.push(`u${u} s${g * 20 + ((u + j * 3) % 20)}`);
      const rows = Array.from({ length: 6 }, (_, j) => `u${u} t${g * 15 + ((u + j * 2) % 15)}`);
      if (u < 10) test.push(...rows);
      else if (u < 16) validation.push(...rows);
      else {
        train.push(...rows.slice(0, 5));
        test.push(rows[5]!);
      }
    }
    const write = (name: string, lines: string[]) => fs.writeFileSync(path.join(dir, name), `${lines.join('\n')}\n`);
    write('src.txt', src);
    write('t-train.txt', train);
    write('t-val.txt', validation);
    write('t-test.txt', test);
  }

  test('reproduces the given cold users exactly and saves a servable model', () => {
    writeDomains();
    const saved = path.join(dir, 'transfer.safetensors');
    const args = [
      'transfer',
      '--source',
      'src.txt',
      '--target-train',
      't-train.txt',
      '--target-validation',
      't-val.txt',
      '--target-test',
      't-test.txt',
    ];
    const r = cli([
      ...args,
      '--strategies',
      'fine-tune',
      '--seeds',
      '1',
      '--dim',
      '8',
      '--epochs',
      '10',
      '--json',
      '-',
      '--save',
      saved,
      '--save-strategy',
      'fine-tune',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as {
      results: { strategy: string; slices: { cold: { users: number } } }[];
      provenance: { inputs: unknown[] };
    };
    expect(json.results.find((x) => x.strategy === 'fine-tune')!.slices.cold.users).toBe(10);
    expect(json.provenance.inputs).toHaveLength(4);
    const recs = cli(['recommend', '--model', saved, 'u3', '--k', '3']);
    expect(recs.code).toBe(0);
    expect((JSON.parse(recs.out) as { items: string[] }).items.every((i) => i.startsWith('t'))).toBe(true);
    expect(cli([...args, '--target', 't-test.txt']).err).toContain('are alternatives');
    expect(cli([...args, '--cold-fraction', '0.3']).err).toContain('apply to the seeded split');
  });
});

describe('transfer: integer ids, protocol flags and the few-shot curve', () => {
  // Both files number their users 1..60: shared ids the command cannot vouch for.
  function writeNumbered() {
    const src: string[] = [];
    const tgt: string[] = [];
    for (let u = 1; u <= 60; u++) {
      const g = u % 2;
      for (let j = 0; j < 8; j++) src.push(`${u} s${g * 20 + ((u + j * 3) % 20)}`);
      for (let j = 0; j < 7; j++) tgt.push(`${u} t${g * 15 + ((u + j * 2) % 15)}`);
    }
    fs.writeFileSync(path.join(dir, 'n-src.txt'), `${src.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'n-tgt.txt'), `${tgt.join('\n')}\n`);
  }
  const base = ['transfer', '--source', 'n-src.txt', '--target', 'n-tgt.txt', '--strategies', 'mapping-linear', '--seeds', '1'];
  const quick = ['--dim', '8', '--epochs', '5', '--quiet'];

  test('warns about integer ids unless --trust-numeric-ids; protocol flags and --few-shot reach the report', () => {
    writeNumbered();
    const r = cli([
      ...base,
      ...quick,
      '--json',
      '-',
      '--few-shot',
      '0,1',
      '--early-stopping',
      'none',
      '--ratios',
      '0.9,0,0.1',
      '--unmask-validation',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^recbridge transfer: warning: the user ids of both files are integer ranges.*--trust-numeric-ids/m);
    const json = JSON.parse(r.out) as {
      protocol: unknown;
      fewShot: { shots: number[]; results: unknown[] };
      alignment: { numericIdRanges: string[]; trustedNumericIds: boolean; sharedUserShare: { source: number } };
    };
    expect(json.protocol).toEqual({ maskValidation: false, earlyStopping: 'none' });
    expect(json.fewShot.shots).toEqual([0, 1]);
    expect(json.fewShot.results).toHaveLength(4);
    expect(json.alignment).toMatchObject({ numericIdRanges: ['users'], trustedNumericIds: true, sharedUserShare: { source: 1 } });

    const trusted = cli([...base, ...quick, '--trust-numeric-ids']);
    expect(trusted.code).toBe(0);
    expect(trusted.err).toBe('');
    expect(trusted.out).toMatch(/^protocol: full ranking over all 30 target items, training and validation rows masked/);
    expect(trusted.out).toContain('60 shared users (100% of the source');
    expect(trusted.out).toContain('note: the user ids of both domains are integer ranges');
    expect(trusted.out).toContain('target-only on cold users = popularity');
  });

  test('flag errors name the flag or the option', () => {
    writeNumbered();
    const bad = cli([...base, '--early-stopping', 'later']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--early-stopping');
    expect(cli([...base, '--ratios', '0.5,0.5']).err).toContain('--ratios takes three shares');
    expect(cli([...base, '--user-links', 'n-src.txt', '--trust-numeric-ids']).err).toContain('not --user-links');
    expect(cli(['transfer', '--demo', '--trust-numeric-ids']).err).toContain('--trust-numeric-ids goes with');
    const refused = cli([...base, ...quick, '--trust-numeric-ids', '--ratios', '0.9,0,0.1']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/\[ERR_OUT_OF_RANGE\].*options\.ratios/);
  });
});
