#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in dist/cli.js (compiled from lib/cli.ts).
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`recbridge: ${err && err.code ? `[${err.code}] ` : ''}${err && err.message ? err.message : err}`);
    process.exit(1);
  });
