// binding.gyp (release builds, prebuildify, the node-gyp fallback) and CMakeLists.txt (cmake-js for
// development) must compile the same sources with the same per-file ISA flags, and the package must
// keep the settings that stop installs from downloading anything.
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

function gypSources(): string[] {
  // binding.gyp is a JSON-compatible Python literal in this repo.
  const gyp = JSON.parse(read('binding.gyp')) as { targets: { sources: string[] }[] };
  return gyp.targets.flatMap((t) => t.sources).sort();
}

function cmakeSources(): string[] {
  return [...read('CMakeLists.txt').matchAll(/^\s*(native\/\S+\.cpp)\)?\s*$/gm)].map((m) => m[1]).sort();
}

test('both build descriptions list the same C++ sources, and every source file is built', () => {
  const onDisk = ['native/kernels', 'native/addon']
    .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.cpp')).map((f) => `${d}/${f}`))
    .sort();
  expect(gypSources()).toEqual(onDisk);
  expect(cmakeSources()).toEqual(onDisk);
});

test('ISA flags are per file, never global', () => {
  const gyp = JSON.parse(read('binding.gyp')) as { target_defaults: { cflags_cc: string[] }; targets: { target_name: string; sources: string[]; cflags_cc?: string[] }[] };
  const main = gyp.targets.find((t) => t.target_name === 'recbridge')!;
  expect(JSON.stringify(gyp.target_defaults)).not.toMatch(/-m(avx|fma)/);
  expect(JSON.stringify(main)).not.toMatch(/-m(avx|fma)/);
  expect(gyp.targets.find((t) => t.sources.includes('native/kernels/avx512.cpp'))!.cflags_cc).toContain('-mavx512f');
  expect(gyp.targets.find((t) => t.sources.includes('native/kernels/avx2.cpp'))!.cflags_cc).toContain('-mavx2');
  expect(read('CMakeLists.txt')).not.toMatch(/CMAKE_CXX_FLAGS[^\n]*-m(avx|fma)/);
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
  expect(Object.keys(pkg.dependencies).sort()).toEqual(['node-addon-api', 'node-gyp-build']);
  expect(pkg.devDependencies['onnxruntime-node']).toBeDefined();
  expect(pkg.peerDependencies['onnxruntime-node']).toBeDefined();
  expect(pkg.peerDependenciesMeta['onnxruntime-node']).toEqual({ optional: true });
  // onnxruntime-node's install script downloads CUDA libraries from outside npm unless told to skip:
  // the checkout's own npm config says so, so a plain `npm ci` works offline with no variable set.
  expect(read('.npmrc')).toMatch(/^onnxruntime-node-install=skip$/m);
  expect(read('.ci/run')).not.toMatch(/ONNXRUNTIME_NODE_INSTALL/);
  expect(pkg.devDependencies.typescript).toMatch(/^\^5\./);
  expect(pkg.files).toEqual(expect.arrayContaining(['dist/', 'prebuilds/', 'binding.gyp']));
  // The core must not load onnxruntime-node at run time.
  for (const f of fs.readdirSync(path.join(root, 'lib'), { recursive: true }).map(String)) {
    if (f.endsWith('.ts') && !f.startsWith('io/onnx/')) expect(read(`lib/${f}`)).not.toMatch(/from 'onnxruntime-node'|require\('onnxruntime-node'\)/);
  }
});
