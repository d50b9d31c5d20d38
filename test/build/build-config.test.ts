// binding.gyp (release builds, prebuildify, the node-gyp fallback) and CMakeLists.txt (cmake-js for
// development) must compile the same sources with the same per-file ISA flags, both read from
// native/isa-flags.json, and the package must keep the settings that stop installs from downloading
// anything.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

type GypTarget = {
  target_name: string;
  type?: string;
  sources: string[];
  cflags_cc?: string[];
  dependencies?: string[];
  conditions?: unknown[];
};
// binding.gyp is a JSON-compatible Python literal in this repo.
const gyp = () => JSON.parse(read('binding.gyp')) as { target_defaults: { cflags_cc: string[] }; targets: GypTarget[] };

type IsaLevels = Record<string, { flags: string[]; sources: string[] }>;
const isaLevels = () => (JSON.parse(read('native/isa-flags.json')) as { levels: IsaLevels }).levels;
const isaSources = () => Object.values(isaLevels()).flatMap((l) => l.sources);

// What gyp makes of a list: each "<!@(command)" becomes the command's output split on white space
// (gyp runs it in the folder of binding.gyp).
function expandGyp(list: string[] = []): string[] {
  return list.flatMap((s) => {
    const m = /^<!@\((.*)\)$/.exec(s);
    return m ? execSync(m[1], { cwd: root, encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean) : [s];
  });
}
const isaFlagsOf = (flags: string[]) => flags.filter((f) => /^-m/.test(f));

const kernelAndAddonSources = () =>
  ['native/kernels', 'native/addon']
    .flatMap((d) =>
      fs
        .readdirSync(path.join(root, d))
        .filter((f) => f.endsWith('.cpp'))
        .map((f) => `${d}/${f}`),
    )
    .sort();

// Per-ISA sources are named for their level: avx2.cpp, dense_avx2.cpp, quantized_avx512x.cpp.
const namedForLevel = (file: string, level: string) => new RegExp(`(^|_)${level}\\.cpp$`).test(path.basename(file));

// Whether a kernel file reaches <immintrin.h>, directly or through the kernels' own headers.
function usesIntrinsics(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const text = read(file);
  if (/#include\s*<(immintrin|x86intrin)\.h>/.test(text)) return true;
  return [...text.matchAll(/#include\s*"([^"]+)"/g)].some((m) => {
    const dep = path.posix.join(path.posix.dirname(file), m[1]);
    return fs.existsSync(path.join(root, dep)) && usesIntrinsics(dep, seen);
  });
}

test('native/isa-flags.json lists every per-ISA source under its level, and only those', () => {
  const levels = isaLevels();
  expect(Object.keys(levels)).toEqual(['avx2', 'avx512', 'avx512x']);
  const kernels = fs
    .readdirSync(path.join(root, 'native/kernels'))
    .filter((f) => f.endsWith('.cpp'))
    .map((f) => `native/kernels/${f}`);
  for (const [level, { flags, sources }] of Object.entries(levels)) {
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) expect(f).toMatch(/^-m[a-z0-9-]+$/);
    expect([...sources].sort()).toEqual(kernels.filter((f) => namedForLevel(f, level)).sort());
  }
  // The dense kernels use GCC vector extensions, not intrinsics, so this holds one way only.
  const listed = new Set(isaSources());
  for (const f of kernels.filter((k) => usesIntrinsics(k)))
    expect({ intrinsics: f, listed: listed.has(f) }).toEqual({ intrinsics: f, listed: true });
});

test('binding.gyp lists every C++ source once, and takes the per-ISA sources and flags from native/isa-flags.json', () => {
  const { targets } = gyp();
  expect(targets.flatMap((t) => expandGyp(t.sources)).sort()).toEqual(kernelAndAddonSources());
  const text = read('binding.gyp');
  expect(text).not.toMatch(/-m(avx|fma)/);
  for (const src of isaSources()) expect(text).not.toContain(src);
  const main = targets.find((t) => t.target_name === 'recbridge')!;
  for (const [level, { flags, sources }] of Object.entries(isaLevels())) {
    const lib = targets.find((t) => t.target_name === `rb_${level}`)!;
    expect(lib.type).toBe('static_library');
    expect(main.dependencies).toContain(lib.target_name);
    for (const entry of [...lib.sources, ...lib.cflags_cc!.filter((f) => f.startsWith('<!'))])
      expect(entry).toContain(`require('./native/isa-flags.json').levels.${level}.`);
    expect(expandGyp(lib.sources)).toEqual(sources);
    expect(isaFlagsOf(expandGyp(lib.cflags_cc))).toEqual(flags);
    // Other architectures build the scalar paths only.
    expect(lib.conditions).toEqual([["target_arch!='x64'", { 'sources/': [['exclude', '.']] }]]);
  }
});

test('ISA flags are per file, never global', () => {
  const g = gyp();
  const main = g.targets.find((t) => t.target_name === 'recbridge')!;
  expect(JSON.stringify(g.target_defaults)).not.toMatch(/-m(avx|fma)|isa-flags/);
  expect(JSON.stringify(main)).not.toMatch(/-m(avx|fma)|isa-flags/);
  expect(read('CMakeLists.txt')).not.toMatch(/CMAKE_CXX_FLAGS[^\n]*-m(avx|fma)|add_compile_options\([^)]*RB_ISA/);
});

test('CMakeLists.txt names no ISA flag or per-ISA source itself: it reads them from native/isa-flags.json', () => {
  const text = read('CMakeLists.txt');
  expect(text).not.toMatch(/-m(avx|fma)/);
  for (const src of isaSources()) expect(text).not.toContain(src);
  expect(text).toContain('/native/isa-flags.json');
  expect(text).toMatch(/string\(JSON /);
});

// The sources and per-file flags cmake really uses, from its file API (a configure only, ~1 s).
// CMAKE_JS_VERSION stands in for cmake-js so the addon target is configured too.
const hasCmake = spawnSync('cmake', ['--version']).status === 0;
(hasCmake ? describe : describe.skip)('CMakeLists.txt as configured by cmake', () => {
  let dir: string;
  const targets = new Map<string, Map<string, string[]>>(); // target -> source -> compile flags

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-cmake-'));
    const api = path.join(dir, '.cmake/api/v1');
    fs.mkdirSync(path.join(api, 'query'), { recursive: true });
    fs.writeFileSync(path.join(api, 'query/codemodel-v2'), '');
    execFileSync('cmake', ['-S', root, '-B', dir, '-DRB_BUILD_BENCH=ON', '-DCMAKE_JS_VERSION=file-api'], { stdio: 'pipe' });
    const reply = (f: string) => JSON.parse(fs.readFileSync(path.join(api, 'reply', f), 'utf8'));
    const index = reply(fs.readdirSync(path.join(api, 'reply')).find((f) => f.startsWith('index-'))!);
    const model = reply(index.reply['codemodel-v2'].jsonFile);
    for (const ref of model.configurations[0].targets as { name: string; jsonFile: string }[]) {
      const t = reply(ref.jsonFile) as {
        sources: { path: string; compileGroupIndex?: number }[];
        compileGroups?: { compileCommandFragments?: { fragment: string }[] }[];
      };
      const flags = new Map<string, string[]>();
      for (const s of t.sources) {
        if (s.compileGroupIndex === undefined) continue;
        const frags = t.compileGroups![s.compileGroupIndex].compileCommandFragments ?? [];
        flags.set(s.path, frags.flatMap((f) => f.fragment.split(/\s+/)).filter(Boolean));
      }
      targets.set(ref.name, flags);
    }
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the kernels library and the addon compile every C++ source once', () => {
    const built = [...targets.get('rb_kernels')!.keys(), ...targets.get('recbridge')!.keys()].filter((f) => f.endsWith('.cpp'));
    expect(built.sort()).toEqual(kernelAndAddonSources());
  });

  test("each per-ISA source gets exactly its level's flags from native/isa-flags.json; no other source gets any", () => {
    const isa = new Map(Object.values(isaLevels()).flatMap(({ flags, sources }) => sources.map((s) => [s, flags] as const)));
    // The benchmark's memory-read probe is AVX2 code too.
    isa.set('bench/native/stream_read.cpp', isaLevels().avx2.flags);
    for (const sources of targets.values())
      for (const [src, flags] of sources) expect({ src, flags: isaFlagsOf(flags) }).toEqual({ src, flags: isa.get(src) ?? [] });
  });
});

test('kernels stay free of Node-API; only core/native.ts loads the addon', () => {
  for (const f of fs.readdirSync(path.join(root, 'native/kernels'))) {
    expect(read(`native/kernels/${f}`)).not.toMatch(/napi|node_api|#include <node/);
  }
  const loaders = fs
    .readdirSync(path.join(root, 'lib'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && /node-gyp-build|\.node['"]/.test(read(`lib/${f}`)));
  expect(loaders).toEqual(['core/native.ts']);
});

test('package.json: napi version pinned for cmake-js, install never downloads, onnxruntime stays optional', () => {
  const pkg = JSON.parse(read('package.json'));
  expect(pkg.binary).toEqual({ napi_versions: [8] });
  expect(pkg.scripts.install).toBe('node-gyp-build');
  // The HTTP service (lib/service) runs on fastify and prom-client: pure JavaScript, no install scripts.
  expect(Object.keys(pkg.dependencies).sort()).toEqual(['fastify', 'node-addon-api', 'node-gyp-build', 'prom-client']);
  expect(pkg.devDependencies['onnxruntime-node']).toBeDefined();
  expect(pkg.peerDependencies['onnxruntime-node']).toBeDefined();
  expect(pkg.peerDependenciesMeta['onnxruntime-node']).toEqual({ optional: true });
  // onnxruntime-node's install script downloads CUDA libraries from outside npm unless told to skip:
  // the checkout's own npm config says so, so a plain `npm ci` works offline with no variable set.
  expect(read('.npmrc')).toMatch(/^onnxruntime-node-install=skip$/m);
  expect(read('.ci/run')).not.toMatch(/ONNXRUNTIME_NODE_INSTALL/);
  expect(pkg.devDependencies.typescript).toMatch(/^\^5\./);
  expect(pkg.files).toEqual(expect.arrayContaining(['dist/**/*.js', 'dist/**/*.d.ts', 'prebuilds/', 'binding.gyp', 'LICENSE']));
  // The core must not load onnxruntime-node at run time.
  for (const f of fs.readdirSync(path.join(root, 'lib'), { recursive: true }).map(String)) {
    if (f.endsWith('.ts') && !f.startsWith('io/onnx/'))
      expect(read(`lib/${f}`)).not.toMatch(/from 'onnxruntime-node'|require\('onnxruntime-node'\)/);
  }
});
