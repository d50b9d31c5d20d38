#!/usr/bin/env node
'use strict';
// Runs before `npm pack` and `npm publish`: the tarball must carry a prebuilt addon for each platform
// we promise, so that `npm install recbridge` needs no compiler. Builds the prebuilds that are missing
// or older than the native sources (in a scratch copy, so the checkout's build/ is left alone), then
// refuses to pack if any is still missing.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const TARGETS = [
  { name: 'linux-x64', arch: 'x64', env: {} },
  {
    name: 'linux-arm64',
    arch: 'arm64',
    // Debian's cross compiler (apt-get install g++-aarch64-linux-gnu).
    env: {
      CC: 'aarch64-linux-gnu-gcc',
      CXX: 'aarch64-linux-gnu-g++',
      LINK: 'aarch64-linux-gnu-g++',
      PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip',
    },
    tool: 'aarch64-linux-gnu-g++',
    install: 'apt-get install g++-aarch64-linux-gnu',
  },
];
const SOURCES = ['binding.gyp', 'native/kernels', 'native/addon', 'native/isa-flags.json'];

function newestSource() {
  let newest = 0;
  const visit = (p) => {
    if (!fs.existsSync(p)) return;
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const s of SOURCES) visit(path.join(root, s));
  return newest;
}

function hasTool(tool) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// node-gyp needs Node's headers. npm passes its nodedir setting to scripts it runs; run directly, use
// the headers installed next to this Node.js when it has them, so nothing is downloaded.
function headersEnv() {
  if (process.env.npm_config_nodedir) return {};
  const dir = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(dir, 'include/node/node_api.h')) ? { npm_config_nodedir: dir } : {};
}

function build(target) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `recbridge-prebuild-${target.arch}-`));
  try {
    for (const entry of ['package.json', 'binding.gyp', 'native']) {
      if (fs.existsSync(path.join(root, entry))) fs.cpSync(path.join(root, entry), path.join(scratch, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
    const prebuildify = path.join(root, 'node_modules/prebuildify/bin.js');
    console.error(`prepack: building prebuilds/${target.name}`);
    execFileSync(process.execPath, [prebuildify, '--napi', '--strip', '--target=node@20.0.0', `--arch=${target.arch}`], {
      cwd: scratch,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...headersEnv(), ...target.env },
    });
    const dir = path.join(root, 'prebuilds', target.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(scratch, 'prebuilds', target.name, 'recbridge.node'), path.join(dir, 'recbridge.node'));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const newest = newestSource();
const missing = [];
for (const target of TARGETS) {
  const file = path.join(root, 'prebuilds', target.name, 'recbridge.node');
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= newest) continue;
  if (target.tool && !hasTool(target.tool)) {
    missing.push(`prebuilds/${target.name}/recbridge.node (needs ${target.tool}: ${target.install})`);
    continue;
  }
  build(target);
}
if (missing.length) {
  console.error(`prepack: refusing to pack without ${missing.join(', ')}: users on that platform would need a compiler.`);
  process.exit(1);
}
