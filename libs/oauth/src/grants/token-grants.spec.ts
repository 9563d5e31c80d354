import { AppError } from '@app/common';
import { AuthorizationCodeGrant } from './authorization-code.grant';
import { RefreshTokenGrant } from './refresh-token.grant';
import { TokenGrants } from './token-grants';

/** The grant_type lookup alone; what each handler does is tested through the token endpoint (oauth-*, oidc-* e2e). */
describe('TokenGrants', () => {
  // The handlers are only looked up here, never called: their dependencies are not needed.
  const code = Object.create(AuthorizationCodeGrant.prototype) as AuthorizationCodeGrant;
  const refresh = Object.create(RefreshTokenGrant.prototype) as RefreshTokenGrant;
  Object.assign(code, { grantType: 'authorization_code' });
  Object.assign(refresh, { grantType: 'refresh_token' });
  const grants = new TokenGrants(code, refresh);

  const refusal = (grantType: string | undefined) => {
    try {
      grants.handler(grantType);
    } catch (error) {
      if (error instanceof AppError) return { code: error.code, description: error.message };
      throw error;
    }
    return null;
  };

  it('finds the handler of each supported grant type', () => {
    expect(grants.handler('authorization_code')).toBe(code);
    expect(grants.handler('refresh_token')).toBe(refresh);
  });

  it('answers invalid_request without a grant type', () => {
    expect(refusal(undefined)?.code).toBe('invalid_request');
    expect(refusal('')?.code).toBe('invalid_request');
  });

  it('answers unauthorized_client for grant types LoginSign clients may not use', () => {
    expect(refusal('client_credentials')?.code).toBe('unauthorized_client');
    expect(refusal('urn:ietf:params:oauth:grant-type:device_code')?.code).toBe('unauthorized_client');
  });

  it('answers unsupported_grant_type for anything else, inherited object keys included', () => {
    for (const grantType of ['password', 'implicit', 'AUTHORIZATION_CODE', 'authorization_code ', 'constructor', '__proto__', 'toString', 'x'.repeat(10000)]) {
      expect(refusal(grantType)?.code).toBe('unsupported_grant_type');
    }
  });
});
