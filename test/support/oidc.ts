import * as client from 'openid-client';
import { TestUser } from './accounts';
import { authorizeAs, ClientApp, ShareChoice } from './oauth';

/**
 * A relying party configured the way a stock OpenID Connect client is: from
 * the issuer URL, a client id and a secret. The only relaxation is plain http
 * on loopback (the test server).
 */
export async function discoverClient(baseUrl: string, app: ClientApp, auth: 'basic' | 'post' = 'basic'): Promise<client.Configuration> {
  const clientAuth = auth === 'basic' ? client.ClientSecretBasic(app.clientSecret) : client.ClientSecretPost(app.clientSecret);
  return client.discovery(new URL(baseUrl), app.clientId, undefined, clientAuth, { execute: [client.allowInsecureRequests] });
}

/**
 * The whole browser round trip driven by openid-client: authorization URL with
 * PKCE, state and nonce; the user's browser (authorizeAs); the code exchange
 * with the library's own validation of the id_token against the JWKS.
 */
export async function oidcSignIn(
  baseUrl: string,
  config: client.Configuration,
  app: ClientApp,
  user: TestUser,
  scope = 'openid profile email offline_access',
  share: ShareChoice = 'relay',
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const openid = scope.split(' ').includes('openid');
  const nonce = openid ? client.randomNonce() : undefined;
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: app.redirectUri,
    scope,
    state,
    ...(nonce ? { nonce } : {}),
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const { res, consentShown } = await authorizeAs(baseUrl, user, Object.fromEntries(url.searchParams), { share });
  if (res.status !== 303) throw new Error(`authorize: ${res.status}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(res.headers.get('location')!), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: openid,
  });
  return { tokens, nonce, consentShown };
}
