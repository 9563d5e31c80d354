import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { authenticator } from 'otplib';
import { signUpUser, TestUser, USER_COOKIE } from '../support/accounts';
import { getPage, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';

const b64url = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

/**
 * A software authenticator that speaks WebAuthn's data formats (ES256, "none"
 * attestation) with chosen flags: the cases a browser's virtual authenticator
 * cannot produce (no user verification on a discoverable credential).
 */
class SoftAuthenticator {
  readonly credentialId = Buffer.from(`soft-${Math.random().toString(36).slice(2)}`);
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;

  constructor(
    /** The origin the "browser" reports in clientDataJSON. */
    public origin: string,
    private readonly rpId: string,
  ) {}

  private cosePublicKey(): Uint8Array {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
  }

  private authData(flags: number, attested: boolean): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.counter);
    const parts = [sha256(this.rpId), Buffer.from([flags]), count];
    if (attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), len, this.credentialId, Buffer.from(this.cosePublicKey()));
    }
    return Buffer.concat(parts);
  }

  register(challenge: string) {
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin: this.origin, crossOrigin: false }));
    // UP (0x01) + AT (0x40); no UV.
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', this.authData(0x41, true)],
      ]) as never,
    );
    return this.credential({ clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['usb'] });
  }

  assert(challenge: string, userVerified: boolean) {
    this.counter += 1;
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin: this.origin, crossOrigin: false }));
    const authData = this.authData(userVerified ? 0x05 : 0x01, false);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.keys.privateKey);
    return this.credential({ clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: null });
  }

  /** The credential as the browser hands it to the page, around an attestation or assertion `response`. */
  private credential<R>(response: R) {
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
      response,
    };
  }
}

describe('passkeys: protocol checks with a software authenticator', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({}, { publicHost: 'localhost' });
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown, cookie = '') =>
    fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });

  async function register(user: TestUser): Promise<SoftAuthenticator> {
    const key = new SoftAuthenticator(t.baseUrl, 'localhost');
    const options = (await (await post('/api/account/passkeys/options', { password: user.password }, user.cookie)).json()) as { challenge: string };
    const added = await post('/api/account/passkeys', { name: 'Security key', response: key.register(options.challenge) }, user.cookie);
    expect(added.status).toBe(201);
    return key;
  }

  async function signIn(key: SoftAuthenticator, userVerified: boolean) {
    const { challenge } = (await (await post('/api/account/passkey-login/options', {})).json()) as { challenge: string };
    return post('/api/account/passkey-login', { response: key.assert(challenge, userVerified), return_to: '/account/apps' });
  }

  it('a passkey without user verification signs in alone, but with two-step sign-in on it leads to the code', async () => {
    const user = await signUpUser(t.baseUrl);
    const key = await register(user);

    const alone = await signIn(key, false);
    expect(alone.status).toBe(200);
    expect(await alone.json()).toEqual({ location: '/account/apps' });
    expect(alone.headers.getSetCookie().some((c) => c.startsWith(`${USER_COOKIE}=`))).toBe(true);

    // Two-step sign-in on.
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    const setup = await (await postForm(t.baseUrl, '/account/security/two-step/setup', { _csrf: page.csrf!, password: user.password }, user.jar)).text();
    const secret = /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(setup)![1];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(setup)![1];
    expect((await postForm(t.baseUrl, '/account/security/two-step/confirm', { _csrf: csrf, code: authenticator.generate(secret) }, user.jar)).status).toBe(200);

    const pending = await signIn(key, false);
    expect(pending.status).toBe(200);
    expect(await pending.json()).toEqual({ location: '/login/two-step' });
    expect(pending.headers.getSetCookie().some((c) => c.startsWith(`${USER_COOKIE}=`))).toBe(false);

    // With user verification the passkey is enough.
    const verified = await signIn(key, true);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({ location: '/account/apps' });
    expect(verified.headers.getSetCookie().some((c) => c.startsWith(`${USER_COOKIE}=`))).toBe(true);
  });

  it('refuses a counter that did not go up, an assertion for another origin, and a bad signature', async () => {
    const user = await signUpUser(t.baseUrl);
    const key = await register(user);
    expect((await signIn(key, true)).status).toBe(200);

    key.counter -= 1; // the next assertion repeats the last counter value (a clone)
    const cloned = await signIn(key, true);
    expect(cloned.status).toBe(401);
    expect(((await cloned.json()) as { error: string }).error).toBe('invalid_credentials');

    key.counter += 5;
    // Signed by the right key, but for another site (a phishing page relaying our challenge).
    key.origin = 'https://evil.example';
    const { challenge } = (await (await post('/api/account/passkey-login/options', {})).json()) as { challenge: string };
    const wrongOrigin = await post('/api/account/passkey-login', { response: key.assert(challenge, true) });
    expect(wrongOrigin.status).toBe(401);
    key.origin = t.baseUrl;

    const { challenge: c2 } = (await (await post('/api/account/passkey-login/options', {})).json()) as { challenge: string };
    const tampered = key.assert(c2, true);
    tampered.response.signature = b64url(Buffer.alloc(70, 1));
    expect((await post('/api/account/passkey-login', { response: tampered })).status).toBe(401);

    // The genuine key still works afterwards.
    expect((await signIn(key, true)).status).toBe(200);
  });
});
