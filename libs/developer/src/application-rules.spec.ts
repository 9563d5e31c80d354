import { AppError } from '@app/common';
import { checkApplicationName, checkApplicationType, checkLogoUrl, checkPostLogoutRedirectUris, checkRedirectUris, checkWebhookUrl, redirectUriMatches } from './application-rules';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_request');
    return (error as AppError).description;
  }
  throw new Error('expected an invalid_request error');
}

describe('checkRedirectUris', () => {
  it('accepts https anywhere and http on loopback IP literals, returning the strings unchanged', () => {
    const uris = ['https://app.example.com/cb?x=1', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb', 'https://EXAMPLE.com:8443/A%20B'];
    for (const type of ['web', 'spa', 'native'] as const) expect(checkRedirectUris(uris, type)).toEqual(uris);
  });

  it('accepts reverse-DNS private-use schemes for native apps only', () => {
    const uris = ['com.example.app:/callback', 'io.example.mobile://oauth/cb?x=1'];
    expect(checkRedirectUris(uris, 'native')).toEqual(uris);
    for (const type of ['web', 'spa'] as const) expect(problem(() => checkRedirectUris(['com.example.app:/callback'], type))).toMatch(/only native/);
  });

  it.each([
    ['myapp:/callback', /reverse domain/],
    ['myapp://callback', /reverse domain/],
    ['javascript:alert(1)', /reverse domain/],
    ['Com.Example.App:/cb', /reverse domain/],
    ['com.example.app:', /path/],
    ['https:/app.example.com/cb', /absolute/],
    ['http://localhost/cb', /loopback/],
  ])('refuses %s for a native app', (uri, message) => {
    expect(problem(() => checkRedirectUris([uri], 'native'))).toMatch(message);
  });

  it.each([
    ['http://app.example.com/cb', /https/],
    ['http://127.0.0.2.nip.io/cb', /https/],
    ['https://app.example.com/cb#x', /fragment/],
    ['https://*.example.com/cb', /wildcard/],
    ['https://u:p@app.example.com/cb', /credentials/],
    ['https://@app.example.com/cb', /credentials/],
    ['/cb', /absolute/],
    ['https:app.example.com', /absolute/],
    ['myapp://callback', /only native/],
    ['http://localhost:3000/', /loopback/],
    ['https://app.example.com/é', /characters/],
    ['https://app.example.com/"', /characters/],
    ['https://exa mple.com/', /characters/],
    ['https://[::1/cb', /valid URL/],
  ])('refuses %s, naming the problem', (uri, message) => {
    expect(problem(() => checkRedirectUris([uri], 'web'))).toMatch(message);
    expect(problem(() => checkRedirectUris([uri], 'web'))).toContain('redirectUris[0]');
  });

  it('refuses non-arrays, empty arrays, more than 20 URIs and duplicates', () => {
    expect(problem(() => checkRedirectUris('https://a.example/cb', 'web'))).toMatch(/array/);
    expect(problem(() => checkRedirectUris([], 'web'))).toMatch(/1 to 20/);
    expect(
      problem(() =>
        checkRedirectUris(
          Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`),
          'web',
        ),
      ),
    ).toMatch(/1 to 20/);
    expect(problem(() => checkRedirectUris(['https://a.example/cb', 'https://a.example/cb'], 'web'))).toMatch(/duplicates/);
  });

  it('post-logout redirect URIs follow the same rules and may be empty', () => {
    expect(checkPostLogoutRedirectUris([], 'web')).toEqual([]);
    expect(checkPostLogoutRedirectUris(['com.example.app:/bye'], 'native')).toEqual(['com.example.app:/bye']);
    expect(problem(() => checkPostLogoutRedirectUris(['http://app.example.com/bye'], 'spa'))).toContain('postLogoutRedirectUris[0]');
  });
});

describe('checkApplicationType', () => {
  it('defaults to web and accepts only web, spa and native', () => {
    expect(checkApplicationType(undefined)).toBe('web');
    for (const type of ['web', 'spa', 'native']) expect(checkApplicationType(type)).toBe(type);
    for (const bad of ['', 'WEB', 'daemon', null, 1]) expect(problem(() => checkApplicationType(bad))).toMatch(/web, spa, native/);
  });
});

describe('redirectUriMatches', () => {
  const native = { type: 'native' as const, redirectUris: ['http://127.0.0.1/cb', 'http://[::1]/cb', 'http://127.0.0.1:7000/fixed', 'com.example.app:/cb'] };

  it('matches a port-less loopback registration of a native app on any port', () => {
    for (const uri of [
      'http://127.0.0.1:1/cb',
      'http://127.0.0.1:65535/cb',
      'http://[::1]:49152/cb',
      'http://127.0.0.1/cb',
      'com.example.app:/cb',
      'http://127.0.0.1:7000/fixed',
    ]) {
      expect(redirectUriMatches(native, uri)).toBe(true);
    }
  });

  it('keeps exact matching everywhere else', () => {
    for (const uri of [
      'http://127.0.0.1:65536/cb',
      'http://127.0.0.1:0/cb',
      'http://127.0.0.1:08080/cb',
      'http://127.0.0.1:7001/fixed',
      'http://127.0.0.1:5000/cb/',
      'http://localhost:5000/cb',
      'http://127.0.0.1:5000/cb?x=1',
      'com.example.app:/cb/',
    ]) {
      expect(redirectUriMatches(native, uri)).toBe(false);
    }
    for (const type of ['web', 'spa'] as const) expect(redirectUriMatches({ type, redirectUris: ['http://127.0.0.1/cb'] }, 'http://127.0.0.1:5000/cb')).toBe(false);
  });
});

describe('checkWebhookUrl, checkLogoUrl, checkApplicationName', () => {
  it('allows http webhooks only when told to (outside production)', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9000/hook', true)).toBe('http://127.0.0.1:9000/hook');
    expect(problem(() => checkWebhookUrl('http://hooks.example.com/', false))).toMatch(/https/);
    expect(checkWebhookUrl('https://hooks.example.com/', false)).toBe('https://hooks.example.com/');
  });

  it('wants https logos', () => {
    expect(checkLogoUrl('https://cdn.example.com/logo.png')).toBe('https://cdn.example.com/logo.png');
    expect(problem(() => checkLogoUrl('http://cdn.example.com/logo.png'))).toMatch(/https/);
  });

  it('trims names and keeps 1..100 characters', () => {
    expect(checkApplicationName('  App  ')).toBe('App');
    expect(problem(() => checkApplicationName('   '))).toMatch(/name/);
    expect(problem(() => checkApplicationName('x'.repeat(101)))).toMatch(/name/);
  });
});
