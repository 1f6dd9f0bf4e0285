#!/usr/bin/env node
// Validates HAR files with the npm package `har-validator` (HAR 1.2 JSON Schema, har-schema),
// for test_har.py.
//
// Usage: node har_validate.js FILE…
// Exit status 0 when every file is valid; 1 when one is not (its schema errors on stderr, as
// JSON); 3 (and a message on stderr) when the package is not installed.
'use strict';

const fs = require('fs');
const path = require('path');

function loadValidator() {
  const candidates = [path.join(__dirname, 'node_modules', 'har-validator'),
                      'har-validator'];  // NODE_PATH or a global install
  for (const candidate of candidates) {
    try {
      return require(candidate);
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') {
        throw error;
      }
    }
  }
  return null;
}

async function main(files) {
  const validator = loadValidator();
  if (validator === null) {
    process.stderr.write('har-validator is not installed (./scripts/hark.sh deps installs it)\n');
    return 3;
  }
  let invalid = 0;
  for (const file of files) {
    let document;
    try {
      document = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      process.stderr.write(`${file}: not JSON: ${error.message}\n`);
      invalid += 1;
      continue;
    }
    try {
      await validator.har(document);
    } catch (error) {
      invalid += 1;
      const details = error.errors !== undefined ? error.errors : error.message;
      process.stderr.write(`${file}: ${JSON.stringify(details, null, 1)}\n`);
    }
  }
  return invalid === 0 ? 0 : 1;
}

if (process.argv.length < 3) {
  process.stderr.write('usage: node har_validate.js FILE…\n');
  process.exit(2);
}
main(process.argv.slice(2)).then((code) => process.exit(code));
