// The peer of `npm run bench:peer`: node-oidc-provider (the engine under Logto)
// with a small Redis adapter, one confidential client, and accounts user-<n>.
// Started by index.ts in its own process with PEER_CONFIG (JSON) in the environment.
// A first sign-in goes through /interaction/<uid>, which logs in the account named
// by login_hint at once; consent is granted by loadExistingGrant (the documented
// first-party pattern), so a returning user's authorize answers 303 with a code.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Redis from 'ioredis';
import Provider, { Adapter, AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';

interface PeerConfig {
  port: number;
  redisUrl: string;
  redisPrefix: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scope: string;
}

const config = JSON.parse(process.env.PEER_CONFIG ?? '{}') as PeerConfig;
const redis = new Redis(config.redisUrl, { keyPrefix: `${config.redisPrefix}:` });

/** Models whose records are consumed (single use): stored as a hash so `consume` is one HSET. */
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
/** Models revoked together with their grant: their keys are listed under grant:<id>. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** One Redis round trip per write (MULTI), one per read. */
class RedisAdapter implements Adapter {
  constructor(private readonly model: string) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const key = this.key(id);
    const multi = redis.multi();
    if (CONSUMABLE.has(this.model)) multi.del(key).hset(key, 'payload', JSON.stringify(payload));
    else multi.set(key, JSON.stringify(payload));
    if (expiresIn) multi.expire(key, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      multi.rpush(grantKey, key);
      // The list lives as long as its longest-lived member: set a TTL if it has none, extend it if shorter.
      if (expiresIn) multi.expire(grantKey, expiresIn, 'NX').expire(grantKey, expiresIn, 'GT');
    }
    if (payload.uid) {
      multi.set(`uid:${payload.uid}`, id);
      if (expiresIn) multi.expire(`uid:${payload.uid}`, expiresIn);
    }
    if (payload.userCode) {
      multi.set(`userCode:${payload.userCode}`, id);
      if (expiresIn) multi.expire(`userCode:${payload.userCode}`, expiresIn);
    }
    await multi.exec();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (CONSUMABLE.has(this.model)) {
      const { payload, consumed } = await redis.hgetall(this.key(id));
      if (!payload) return undefined;
      return consumed ? { ...(JSON.parse(payload) as AdapterPayload), consumed: Number(consumed) } : (JSON.parse(payload) as AdapterPayload);
    }
    const data = await redis.get(this.key(id));
    return data ? (JSON.parse(data) as AdapterPayload) : undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await redis.get(`uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = await redis.get(`userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
  }

  async destroy(id: string): Promise<void> {
    await redis.del(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `grant:${grantId}`;
    const keys = await redis.lrange(grantKey, 0, -1);
    await redis.del(...keys, grantKey); // list entries are unprefixed keys: ioredis adds the prefix
  }
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(`http://127.0.0.1:${config.port}`, {
  adapter: RedisAdapter,
  clients: [
    {
      client_id: config.clientId,
      client_secret: config.clientSecret,
      redirect_uris: [config.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: { devInteractions: { enabled: false } },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' }] },
  // Codes live 10 minutes: the exchange phase's pools are generated before they are used (as in LoginSign's bench).
  ttl: { AuthorizationCode: 600, AccessToken: 3600, IdToken: 3600, Interaction: 3600, Session: 14 * 86_400, Grant: 14 * 86_400 },
  pkce: { required: () => true },
  findAccount(_ctx, id) {
    const n = /^user-(\d+)$/.exec(id)?.[1];
    if (n === undefined) return Promise.resolve(undefined);
    const claims = { sub: id, name: `Bench User ${n}`, email: `bench-user-${n}@example.com`, email_verified: true };
    return Promise.resolve({ accountId: id, claims: () => Promise.resolve(claims) });
  },
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { client, session, result, provider: p } = ctx.oidc;
    const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    if (grantId) return p.Grant.find(grantId);
    if (!session.accountId) return undefined;
    // The bench's client is first-party: consent is granted once, remembered in the session.
    const grant = new p.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(config.scope);
    await grant.save();
    return grant;
  },
});

const oidc = provider.callback();

/** The login "page": signs in the account named by login_hint, at once. */
async function interaction(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const accountId = details.params.login_hint;
  if (typeof accountId !== 'string') {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('login_hint required');
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
}

http
  .createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message);
      });
    } else oidc(req, res);
  })
  .listen(config.port, '127.0.0.1', () => console.log(`peer listening on ${config.port}`));

process.on('SIGTERM', () => {
  redis.disconnect();
  process.exit(0);
});
