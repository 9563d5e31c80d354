export * from './signing-keys.repository';
export * from './signing-keys.service';
export * from './claims.service';
export * from './id-tokens.service';
export * from './oidc.module';
