// Jest runs each test file in its own vm context with its own typed-array, ArrayBuffer and Error
// constructors. The addon and worker_threads hand back objects from the main realm, so share the
// main realm's binary-data constructors with the sandbox; tests assert on error name/code only.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Atomics',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class RecbridgeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = RecbridgeEnvironment;
