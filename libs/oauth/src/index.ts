export * from './oauth.module';
export * from './authorize-request';
export * from './codes.service';
export * from './connections.service';
export * from './connection-admin.service';
export * from './tokens.service';
export * from './pkce';
export * from './scopes';
