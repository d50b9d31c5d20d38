/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/support/environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: { warnOnly: false } }] },
  reporters: ['default', '<rootDir>/test/support/count-reporter.js'],
  testTimeout: 60000,
  // Native work already uses both cores; two jest workers keep the run predictable on 2-core machines.
  maxWorkers: 2,
};
