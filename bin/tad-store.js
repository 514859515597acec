#!/usr/bin/env node
'use strict';

// `npx tad-store <command> <file>`: the support command (lib/cli/).
require('../lib/cli/main.js')
  .main(process.argv.slice(2))
  .then(code => {
    process.exitCode = code;
  });
