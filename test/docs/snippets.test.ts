// Every fenced code block of README.md and docs/*.md is executed here, so the documentation cannot
// drift from the code again.
//
// Conventions for whoever writes the docs:
// - Every fence names its language: ts, js, sh or text. A fence without one fails the test.
// - ts and js blocks run as scripts, each in a fresh Node process (30 s timeout), in a temporary folder
//   where `recbridge` resolves to this checkout (node_modules/recbridge links to the repository root,
//   so its dist/ and addon are used: `npm test` builds them in `pretest`). A block is transpiled to
//   CommonJS and wrapped in an async function, so top-level await works. A block fails when it throws,
//   rejects or exits non-zero. Every ts block is also type-checked, all of them in one tsc program
//   against the package's declarations (dist/*.d.ts), so the docs cannot drift in types either.
// - sh blocks run with `bash -e` in the same folder; `recbridge` and `npx recbridge` run this
//   checkout's CLI, and no other `npx` command is allowed.
// - The blocks of one page run in order in one folder of their own: a block may use files that an
//   earlier block of the same page wrote (write them into the current folder). Pages never share files.
// - A block that cannot run here (installing, the whole test suite, benchmarks, hour-long runs) is
//   preceded by an HTML comment `<!-- not executed: the reason -->`; a skipped block without a reason
//   fails the test.
// - text blocks are not code and are not run. A text block preceded by `<!-- output -->` shows what
//   the previous block printed, and is checked against it: lines are compared after trimming trailing
//   spaces; a line `...` matches any number of lines, and `…` inside a line matches any characters.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as ts from 'typescript';

const root = path.resolve(__dirname, '../..');
const TIMEOUT_MS = 30_000;

type Kind = 'ts' | 'js' | 'sh' | 'text';
const LANGUAGES: Record<string, Kind> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  text: 'text',
};

interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  kind: Kind | null;
  code: string;
  /** The HTML comment right before the fence, if any. */
  directive: string | null;
}

function pages(): string[] {
  const docs = fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

/** The fenced blocks of a Markdown page (``` or ~~~ fences, indented or not). */
function blocksOf(page: string): Block[] {
  const lines = fs.readFileSync(path.join(root, page), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(lines[j])) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    if (j === lines.length) throw new Error(`${page}:${i + 1}: the code fence is never closed`);
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const comment = k >= 0 ? /^\s*<!--\s*([\s\S]*?)\s*-->\s*$/.exec(lines[k]) : null;
    const language = info.trim().split(/\s+/)[0] ?? '';
    out.push({
      page,
      line: i + 1,
      info: info.trim(),
      kind: LANGUAGES[language] ?? null,
      code: `${body.join('\n')}\n`,
      directive: comment ? comment[1] : null,
    });
    i = j;
  }
  return out;
}

/**
 * What the comment before a block says: run it, skip it (with the reason), or check it as the output
 * of the code block before it. Anything else is a mistake in the page, reported by the first test.
 */
type Directive = { run: true } | { skip: string } | { output: true } | { problem: string };

function directiveOf(b: Block): Directive {
  if (b.directive === null) return { run: true };
  if (b.directive === 'output') {
    return b.kind === 'text'
      ? { output: true }
      : { problem: `${where(b)}: <!-- output --> belongs before a text block, not a ${b.kind} block` };
  }
  const skip = /^not executed\b\s*:?\s*(.*)$/s.exec(b.directive);
  if (skip) {
    const reason = skip[1].trim();
    return reason ? { skip: reason } : { problem: `${where(b)}: "<!-- not executed -->" needs a reason: <!-- not executed: why -->` };
  }
  return {
    problem: `${where(b)}: unknown comment before a code block: <!-- ${b.directive} --> (use <!-- not executed: why --> or <!-- output -->)`,
  };
}

const where = (b: Block) => `${b.page}:${b.line}`;
const slug = (page: string) => page.replace(/[^A-Za-z0-9]+/g, '-').replace(/-md$/, '');

/** A folder in which `recbridge` resolves to this checkout. */
function packageFolder(dir: string): string {
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'recbridge'), 'dir');
  return dir;
}

/** `recbridge` and `npx recbridge` for sh blocks: this checkout's CLI, nothing downloaded. */
function shellBin(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const cli = path.join(root, 'bin', 'recbridge.js');
  fs.writeFileSync(path.join(dir, 'recbridge'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(
    path.join(dir, 'npx'),
    `#!/bin/sh\nif [ "$1" = recbridge ]; then shift; exec "${process.execPath}" "${cli}" "$@"; fi\n` +
      `echo "docs test: only 'npx recbridge' runs here, not 'npx $1'" >&2\nexit 127\n`,
    { mode: 0o755 },
  );
  return dir;
}

/** A ts or js block as a CommonJS script whose body runs in an async function (top-level await). */
function script(b: Block): string {
  const { outputText } = ts.transpileModule(b.code, {
    fileName: `block.${b.kind}`,
    reportDiagnostics: false,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  return `// ${where(b)}\n(async () => {\n${outputText}\n})().catch((err) => {\n  console.error(err);\n  process.exitCode = 1;\n});\n`;
}

interface Run {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function execute(b: Block, cwd: string, bin: string, index: number): Run {
  const env = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    NODE_OPTIONS: '',
  };
  let r: SpawnSyncReturns<string>;
  if (b.kind === 'sh') {
    r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', b.code], { cwd, env, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 << 20 });
  } else {
    const file = path.join(cwd, `.block-${String(index).padStart(2, '0')}.cjs`);
    fs.writeFileSync(file, script(b));
    r = spawnSync(process.execPath, [file], { cwd, env, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 << 20 });
  }
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Does `actual` (a program's output) match `expected` (a doc's output block, with wildcards)? */
function outputMatches(expected: string, actual: string): boolean {
  const norm = (s: string) =>
    s
      .replace(/\s+$/, '')
      .split('\n')
      .map((l) => l.replace(/\s+$/, ''));
  const want = norm(expected);
  const got = norm(actual);
  const lineMatches = (pattern: string, line: string) =>
    new RegExp(
      `^${pattern
        .split('…')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(line);
  const match = (w: number, g: number): boolean => {
    if (w === want.length) return g === got.length;
    if (want[w] === '...') {
      for (let skip = g; skip <= got.length; skip++) if (match(w + 1, skip)) return true;
      return false;
    }
    return g < got.length && lineMatches(want[w], got[g]) && match(w + 1, g + 1);
  };
  return match(0, 0);
}

/** Type-checks every ts block in one program against dist/*.d.ts; returns the errors by block. */
function typeCheck(blocks: Block[], dir: string): string[] {
  packageFolder(dir);
  const files = blocks.map((b, i) => {
    const file = path.join(dir, `${String(i).padStart(3, '0')}-${slug(b.page)}-${b.line}.ts`);
    fs.writeFileSync(file, b.code);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const byFile = new Map(files.map((f, i) => [path.resolve(f), blocks[i]]));
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const b = d.file ? byFile.get(path.resolve(d.file.fileName)) : undefined;
    if (!d.file || !b) return `${d.file?.fileName ?? 'tsc'}: ${text}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    // +1: the fence line itself; +1: 1-based.
    return `${b.page}:${b.line + line + 1}: ${text}`;
  });
}

const all = pages().map((page) => ({ page, blocks: blocksOf(page) }));
let work: string;
let bin: string;

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'index.d.ts')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-docs-'));
  bin = shellBin(path.join(work, '.bin'));
});

afterAll(() => {
  if (work && !process.env.RECBRIDGE_KEEP_DOCS) fs.rmSync(work, { recursive: true, force: true });
});

test('every code block names its language, and every skipped block says why', () => {
  const problems: string[] = [];
  for (const { blocks } of all) {
    let lastCode: { block: Block; runs: boolean } | null = null;
    for (const b of blocks) {
      if (b.kind === null) problems.push(`${where(b)}: code fence without a known language (\`\`\`${b.info}); use ts, js, sh or text`);
      const d = directiveOf(b);
      if ('problem' in d) problems.push(d.problem);
      if ('output' in d && !lastCode?.runs) problems.push(`${where(b)}: <!-- output --> must follow an executed code block`);
      if (b.kind !== 'text') lastCode = { block: b, runs: 'run' in d };
    }
  }
  expect(problems).toEqual([]);
});

test('every ts block type-checks against the package declarations', () => {
  const blocks = all.flatMap((p) => p.blocks).filter((b) => b.kind === 'ts' && 'run' in directiveOf(b));
  expect(typeCheck(blocks, path.join(work, '.typecheck'))).toEqual([]);
}, 120_000);

describe.each(all.filter((p) => p.blocks.length > 0))('$page', ({ page, blocks }) => {
  let cwd: string | undefined;
  const folder = () => (cwd ??= packageFolder(path.join(work, slug(page))));
  /** What each executed block printed, by its index. */
  const printed = new Map<number, string>();
  let lastCode = -1;

  for (const [index, b] of blocks.entries()) {
    const d = directiveOf(b);
    const title = `${where(b)} ${b.kind ?? 'no language'}`;
    const source = lastCode;
    if (b.kind !== 'text') lastCode = index;
    if (b.kind === null || 'problem' in d) continue; // reported by the first test
    if ('skip' in d) {
      test.skip(`${title} (not executed: ${d.skip})`, () => undefined);
    } else if ('output' in d) {
      test(`${title}: the output of ${source >= 0 ? where(blocks[source]) : 'no block'}`, () => {
        const stdout = printed.get(source);
        if (stdout === undefined) throw new Error(`${where(b)}: <!-- output --> must follow an executed code block`);
        if (!outputMatches(b.code, stdout))
          throw new Error(`${where(b)}: the output shown does not match what ${where(blocks[source])} printed:\n${stdout}`);
      });
    } else if (b.kind !== 'text') {
      // (a text block without a comment is an illustration, not code)
      test(
        title,
        () => {
          const r = execute(b, folder(), bin, index);
          printed.set(index, r.stdout);
          if (r.status !== 0) {
            const how = r.signal
              ? `was killed (${r.signal}${r.signal === 'SIGTERM' ? `, over ${TIMEOUT_MS / 1000} s` : ''})`
              : `exited with ${r.status}`;
            throw new Error(`${where(b)} ${how}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- block\n${b.code}`);
          }
        },
        TIMEOUT_MS + 10_000,
      );
    }
  }
});
