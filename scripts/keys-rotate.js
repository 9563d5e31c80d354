#!/usr/bin/env node
// npm run keys:rotate: replaces the active signing keys (RS256 and ES256) with new ones.
// The old public keys stay in the JWKS until every token they signed has
// expired; running API processes switch to the new keys within
// SIGNING_KEY_CACHE_SECONDS. (Keys also rotate by themselves after
// SIGNING_KEY_ROTATION_DAYS.)
const { root, prepare } = require('./lib');

async function main() {
  await prepare();
  require('reflect-metadata');
  const { DataSource } = require('typeorm');
  const { loadConfig } = require(`${root}/dist/libs/config/src`);
  const { dataSourceOptions, migrate } = require(`${root}/dist/libs/database/src`);
  const { rotateSigningKeys } = require(`${root}/dist/libs/oauth/src/oidc/signing-keys.service`);
  const config = loadConfig();
  await migrate(config, () => {});
  const db = await new DataSource(dataSourceOptions(config)).initialize();
  try {
    const kids = await rotateSigningKeys(db, config);
    console.log(`> new signing keys ${kids.join(', ')} are active; the previous ones stay published until their tokens expire`);
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
