#!/usr/bin/env node
// npm run keys:rotate: replaces the active id_token signing key with a new one.
// The old public key stays in the JWKS until every id_token it signed has
// expired; running API processes switch to the new key within
// SIGNING_KEY_CACHE_SECONDS. (Keys also rotate by themselves after
// SIGNING_KEY_ROTATION_DAYS.)
const { root, prepare } = require('./lib');

async function main() {
  await prepare();
  require('reflect-metadata');
  const { DataSource } = require('typeorm');
  const { loadConfig } = require(`${root}/dist/libs/config/src`);
  const { dataSourceOptions, migrate } = require(`${root}/dist/libs/database/src`);
  const { rotateSigningKey } = require(`${root}/dist/libs/oauth/src/oidc/signing-keys.service`);
  const config = loadConfig();
  await migrate(config, () => {});
  const db = await new DataSource(dataSourceOptions(config)).initialize();
  try {
    const kid = await rotateSigningKey(db, config);
    console.log(`> new signing key ${kid} is active; the previous one stays published until its tokens expire`);
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
