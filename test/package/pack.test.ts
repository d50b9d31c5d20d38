// The published package must load its prebuilt binary on a machine with no compiler: build the
// prebuild, `npm pack`, install the tarball into a fresh folder with only `node` on PATH (no g++,
// make or python, so node-gyp could not possibly build), and run a query there.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const npmCli = path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

describe('npm package', () => {
  let work: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-pack-'));
    // Build and pack in a private copy: prebuildify runs `node-gyp rebuild`, which would wipe the
    // checkout's build/ while other test files load the addon from it.
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    for (const entry of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native', 'dist', 'bin']) {
      fs.cpSync(path.join(root, entry), path.join(src, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'));
    run(process.execPath, [npmCli, 'run', 'build:prebuilds', '--silent'], src);
    // dist/ was copied already built; --ignore-scripts skips `prepare` (which needs lib/ and tsc).
    const packed = JSON.parse(run(process.execPath, [npmCli, 'pack', '--json', '--ignore-scripts', '--pack-destination', work], src)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(work, packed[0].filename);
    files = packed[0].files.map((f) => f.path);
  }, 300_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the tarball ships dist, the prebuild and the sources for a fallback build, and nothing else', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'prebuilds/linux-x64/recbridge.node', 'binding.gyp', 'native/kernels/avx512.cpp', 'package.json', 'README.md']));
    expect(files).toContain('LICENSE');
    for (const f of files) expect(f).not.toMatch(/^(test|bench|build|node_modules|lib|fuzz|scripts|docs)\/|^native\/(tests|fuzz)\/|\.map$|\.tgz$|ml-100k|\.inter$/);
  });

  test('installs and runs from the prebuild with no compiler on PATH', () => {
    const app = path.join(work, 'app');
    const bin = path.join(work, 'bin');
    fs.mkdirSync(app);
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs install scripts through sh
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const env: NodeJS.ProcessEnv = {
      HOME: process.env.HOME,
      PATH: bin, // only node and sh: a source build would fail for want of make, g++ and python
      npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
    };
    for (const tool of ['g++', 'make', 'python3', 'cc']) {
      expect(() => run('/bin/sh', ['-c', `command -v ${tool}`], app, env)).toThrow();
    }
    run(process.execPath, [npmCli, 'install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], app, env);
    const installed = path.join(app, 'node_modules/recbridge');
    // npm 11 runs a dependency's install script only once approved, so run it here as any npm that
    // runs it would: node-gyp-build must find the prebuild and exit without trying to compile.
    // npm puts node_modules/.bin on PATH for lifecycle scripts (node-gyp-build calls its test helper by name).
    const scriptEnv = { ...env, PATH: `${path.join(app, 'node_modules/.bin')}:${bin}` };
    run(process.execPath, [path.join(app, 'node_modules/node-gyp-build/bin.js')], installed, scriptEnv);
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false); // nothing was compiled
    const out = run(
      process.execPath,
      [
        '-e',
        `const rb = require('recbridge');
         const t = rb.EmbeddingTable.fromRows([[1, 0], [0, 1], [1, 1]]);
         const r = rb.topK(t, [1, 2], 2);
         console.log(JSON.stringify({ isa: rb.capabilities().isa, indices: Array.from(r.indices), scores: Array.from(r.scores) }));`,
      ],
      app,
      env,
    );
    const res = JSON.parse(out.trim().split('\n').pop()!);
    expect(res.indices).toEqual([2, 1]);
    expect(res.scores).toEqual([3, 2]);
    expect(['scalar', 'avx2', 'avx512']).toContain(res.isa);
  }, 300_000);
});
