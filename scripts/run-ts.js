#!/usr/bin/env node
// Runs a TypeScript file (bench scripts, one-off tools) without a build step:
//   node scripts/run-ts.js <file.ts> [args...]
// A require hook compiles each .ts file with SWC using the repo's .swcrc, and
// the @app/* aliases resolve to libs/*/src like in jest.config.js.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..');
const swc = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
delete swc.jsc.baseUrl; // aliases are resolved below instead
delete swc.jsc.paths;
const options = { ...swc, swcrc: false, sourceMaps: 'inline' };

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const alias = /^@app\/([a-z]+)$/.exec(request);
  return resolve.call(this, alias ? path.join(root, 'libs', alias[1], 'src') : request, ...rest);
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};

process.setSourceMapsEnabled(true);
const target = process.argv[2];
if (!target) {
  console.error('usage: node scripts/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
// A node:cluster primary (API_PROCESSES > 1) forks its workers through this script too.
const cluster = require('node:cluster');
if (cluster.isPrimary) cluster.setupPrimary({ exec: __filename, args: process.argv.slice(2) });
process.argv.splice(1, 1); // the script sees itself as argv[1]
require(path.resolve(target));
