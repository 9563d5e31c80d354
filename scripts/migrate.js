#!/usr/bin/env node
// npm run migrate: creates the database when missing and applies pending migrations.
// --built: use the compiled dist/ as it is (the container image has no build tools).
const { root, ensureInstalled, build, checkServices } = require('./lib');

async function main() {
  if (!process.argv.includes('--built')) {
    ensureInstalled();
    build();
  }
  await checkServices();
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
