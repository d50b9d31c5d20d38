// Prints the plain closing line CI reads, "N passed, N failed", as the very last output: jest's own
// summary reporter runs after custom reporters, so the line is written when the process exits.
class CountReporter {
  onRunComplete(_contexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.once('exit', () => process.stdout.write(`\n${passed} passed, ${failed} failed\n`));
  }
}

module.exports = CountReporter;
