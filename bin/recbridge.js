#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in dist/commands/cli.js (compiled from lib/commands/cli.ts).
require('../dist/commands/cli.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`recbridge: ${err?.code ? `[${err.code}] ` : ''}${err?.message ? err.message : err}`);
    process.exit(1);
  });
