#!/usr/bin/env node
// npm run migrate: creates the database when missing and applies pending migrations.
const { root, prepare } = require('./lib');

async function main() {
  await prepare();
  require('reflect-metadata');
  const { loadConfig } = require(`${root}/dist/libs/config/src`);
  const { migrate } = require(`${root}/dist/libs/database/src`);
  await migrate(loadConfig(), (line) => console.log(`> ${line}`));
  console.log('> database is up to date');
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
