'use strict';
// What the numbers were measured on, stored next to them so that results stay comparable.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const { ROOT, loadRecbridge } = require('./recbridge');

function cpuModel() {
  try {
    const line = fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function ortVersion() {
  try {
    return require('onnxruntime-node').env.versions.node ?? null;
  } catch {
    return null;
  }
}

function machineInfo() {
  const caps = loadRecbridge().rb.capabilities();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    isa: caps.isa,
    detectedIsa: caps.detectedIsa,
    node: process.version,
    onnxruntime: ortVersion(),
    commit: git(['rev-parse', 'HEAD']),
    dirty: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
    // Load before the run: anything else running skews every number (see bench/README.md).
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
  };
}

module.exports = { machineInfo };
