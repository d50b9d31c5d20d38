// The layer rules of lib/ (docs/architecture.md explains them). `npm run lint:deps` checks them in CI:
// an import that breaks a rule fails the build.

/** Each layer and the layers below it that it may import (it may always import itself). */
const LAYERS = {
  core: [],
  data: ['core'],
  report: ['core'],
  models: ['core', 'data'],
  eval: ['core', 'data', 'models'],
  train: ['core', 'data', 'models', 'eval'],
  neighbours: ['core', 'data', 'models', 'eval'],
  io: ['core', 'data', 'models'],
  transfer: ['core', 'data', 'models', 'eval', 'train', 'neighbours', 'io', 'report'],
  serving: ['core', 'data', 'models', 'eval', 'train', 'neighbours', 'io', 'transfer'],
  service: ['core', 'data', 'io', 'serving'],
  commands: ['core', 'data', 'models', 'eval', 'train', 'neighbours', 'io', 'transfer', 'serving', 'report', 'service'],
};
const ALL = Object.keys(LAYERS);

const layerRules = Object.entries(LAYERS).map(([layer, below]) => {
  const forbiddenTargets = ALL.filter((l) => l !== layer && !below.includes(l));
  return {
    name: `layer-${layer}`,
    comment: `lib/${layer}/ may import only ${below.length ? below.map((l) => `lib/${l}/`).join(', ') : 'node: built-ins and itself'}`,
    severity: 'error',
    from: { path: `^lib/${layer}/` },
    to: { path: `^lib/(${forbiddenTargets.join('|')})/` },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-loose-modules',
      comment: 'lib/ holds only index.ts and the layer folders: a module belongs to a layer',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/[^/]+\\.ts$', pathNot: '^lib/index\\.ts$' },
    },
    {
      name: 'entry-points-not-imported',
      comment:
        'the root and area entry points (lib/index.ts, lib/<area>/index.ts) are for consumers; modules import what they use directly',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/index\\.ts$' },
      to: { path: ['^lib/index\\.ts$', '^lib/[^/]+/index\\.ts$'] },
    },
    {
      name: 'only-native-loads-the-addon',
      comment: 'lib/core/native.ts is the one module that loads the addon',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/core/native\\.ts$' },
      to: { path: 'node_modules/node-gyp-build/' },
    },
    {
      name: 'onnxruntime-only-lazily-in-io-onnx',
      comment: 'onnxruntime-node is optional: only lib/io/onnx/runtime.ts loads it, on first use',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/io/onnx/runtime\\.ts$' },
      to: { path: 'node_modules/onnxruntime-node/' },
    },
    {
      name: 'no-circular',
      comment: 'import cycles make load order fragile and layers meaningless',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'lib-not-to-tests-or-benches',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(test|bench|fuzz|scripts)/' },
    },
    {
      name: 'lib-not-to-dev-dependencies',
      comment: 'what lib/ imports at run time must be a dependency (onnxruntime-node is an optional peer, loaded lazily)',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/io/onnx/runtime\\.ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
