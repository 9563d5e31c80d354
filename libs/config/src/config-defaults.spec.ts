import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackHost, loadConfig } from './config';

const secrets = () => ({
  JWT_SECRET: randomBytes(32).toString('base64'),
  SESSION_SECRET: randomBytes(32).toString('base64'),
  GLOBAL_ID_KEY: randomBytes(32).toString('base64'),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
});
const file = () => join(mkdtempSync(join(tmpdir(), 'ls-config-')), 'secrets.json');
const load = (env: Record<string, string>) => loadConfig({ SECRETS_FILE: file(), ...secrets(), ...env });

describe('safer defaults', () => {
  it('defaults to http://localhost:<PORT>, listens on 127.0.0.1 outside production and 0.0.0.0 in production', () => {
    expect(load({})).toMatchObject({ publicUrl: 'http://localhost:3000', host: '127.0.0.1', sessionIdleSeconds: 604_800, trustProxy: false, rateLimitAllowlist: [] });
    expect(load({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(load({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(load({ NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com' }).host).toBe('0.0.0.0');
    expect(load({}).perIpHourly).toEqual({ userSignups: 20, developerSignups: 20, resetRequests: 20 });
    expect(load({}).login).toEqual({ maxFailuresPerAccount: 10, maxFailuresPerIp: 50, windowSeconds: 900 });
  });

  it('refuses an http:// PUBLIC_URL in production unless its host is loopback', () => {
    for (const url of ['http://id.example.com', 'http://192.168.1.10:3000', 'http://[2001:db8::1]:3000']) {
      expect(() => load({ NODE_ENV: 'production', PUBLIC_URL: url })).toThrow(/^Invalid configuration: PUBLIC_URL must use https:\/\/ in production/);
    }
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://127.8.9.10', 'http://[::1]:3000', 'https://id.example.com']) {
      expect(load({ NODE_ENV: 'production', PUBLIC_URL: url }).isProduction).toBe(true);
    }
    // Outside production any http origin is accepted (a LAN demo, for instance).
    expect(load({ PUBLIC_URL: 'http://192.168.1.10:3000' }).publicUrl).toBe('http://192.168.1.10:3000');
  });

  it('knows loopback hosts', () => {
    for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: true });
    for (const host of ['0.0.0.0', '10.0.0.1', 'example.com', 'localhost.example.com', '::', '128.0.0.1'])
      expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: false });
  });
});

describe('TRUST_PROXY, RATE_LIMIT_ALLOWLIST, SESSION_IDLE_SECONDS and the per-IP limits', () => {
  it('reads TRUST_PROXY as a hop count or a list of proxy IPs/CIDRs', () => {
    expect(load({ TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(load({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7 ,::1' }).trustProxy).toEqual(['10.0.0.0/8', '192.168.1.7/32', '::1/128']);
  });

  it('reads RATE_LIMIT_ALLOWLIST as IPs/CIDRs', () => {
    expect(load({ RATE_LIMIT_ALLOWLIST: '203.0.113.0/24,2001:db8::/32' }).rateLimitAllowlist).toEqual(['203.0.113.0/24', '2001:db8::/32']);
  });

  it.each([
    ['TRUST_PROXY', 'yes please'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '101'],
    ['TRUST_PROXY', '10.0.0.1,'],
    ['RATE_LIMIT_ALLOWLIST', '300.1.1.1'],
    ['RATE_LIMIT_ALLOWLIST', 'example.com'],
    ['SESSION_IDLE_SECONDS', '0'],
    ['SESSION_IDLE_SECONDS', 'week'],
    ['REFRESH_TOKEN_IDLE_SECONDS', '0'],
    ['REFRESH_TOKEN_REUSE_SECONDS', '-1'],
    ['REFRESH_TOKEN_REUSE_SECONDS', '301'],
    ['SIGNUP_LIMIT_PER_IP_PER_HOUR', '0'],
    ['DEVELOPER_SIGNUP_LIMIT_PER_IP_PER_HOUR', '-1'],
    ['RESET_LIMIT_PER_IP_PER_HOUR', '1e3'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('reads the refresh token reuse window and idle timeout; the window must be shorter than the idle timeout', () => {
    expect(load({})).toMatchObject({ refreshTokenReuseSeconds: 10, refreshTokenIdleSeconds: 1209600 });
    expect(load({ REFRESH_TOKEN_REUSE_SECONDS: '0', REFRESH_TOKEN_IDLE_SECONDS: '2' })).toMatchObject({ refreshTokenReuseSeconds: 0, refreshTokenIdleSeconds: 2 });
    expect(load({ REFRESH_TOKEN_IDLE_SECONDS: '2' }).refreshTokenReuseSeconds).toBe(1);
    expect(() => load({ REFRESH_TOKEN_REUSE_SECONDS: '30', REFRESH_TOKEN_IDLE_SECONDS: '30' })).toThrow(/^Invalid configuration: REFRESH_TOKEN_REUSE_SECONDS /);
  });
});
