export * from './oauth.module';
export * from './authorize-request';
export * from './codes.service';
export * from './grants/grants.service';
export * from './tokens.service';
export * from './pkce';
export * from './scopes';
export * from './oidc';
