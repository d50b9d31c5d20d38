'use strict';
// The child side of the protocol: a case script gets its JSON arguments from argv[2] and writes one
// line per record to stdout, prefixed so the orchestrator can ignore anything else printed there.
const RECORD_PREFIX = 'BENCH_RECORD ';

function emit(record) {
  process.stdout.write(`${RECORD_PREFIX + JSON.stringify(record)}\n`);
}

/** Progress and warnings go to stderr, which the orchestrator passes through. */
function log(message) {
  process.stderr.write(`  ${message}\n`);
}

/** Frees what a phase left behind (large tables, ORT sessions) before the next one is timed. */
function collectGarbage() {
  if (typeof global.gc === 'function') global.gc();
}

/** Runs main(args) and exits non-zero on failure, with the stack on stderr. */
function runCase(main) {
  let args;
  try {
    args = JSON.parse(process.argv[2] || '{}');
  } catch (err) {
    process.stderr.write(`bench case: invalid JSON arguments: ${err.message}\n`);
    process.exit(2);
  }
  Promise.resolve()
    .then(() => main(args))
    .then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`bench case failed: ${err?.stack ? err.stack : err}\n`);
        process.exit(1);
      },
    );
}

module.exports = { RECORD_PREFIX, emit, log, collectGarbage, runCase };
