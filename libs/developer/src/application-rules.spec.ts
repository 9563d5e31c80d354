import { AppError } from '@app/common';
import { checkApplicationName, checkLogoUrl, checkRedirectUris, checkWebhookUrl } from './application-rules';

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
  it('accepts https anywhere and http on loopback hosts, returning the strings unchanged', () => {
    const uris = ['https://app.example.com/cb?x=1', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb', 'http://localhost:3000/', 'https://EXAMPLE.com:8443/A%20B'];
    expect(checkRedirectUris(uris)).toEqual(uris);
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
    ['myapp://callback', /absolute/],
    ['https://app.example.com/é', /characters/],
    ['https://app.example.com/"', /characters/],
    ['https://exa mple.com/', /characters/],
    ['https://[::1/cb', /valid URL/],
  ])('refuses %s, naming the problem', (uri, message) => {
    expect(problem(() => checkRedirectUris([uri]))).toMatch(message);
    expect(problem(() => checkRedirectUris([uri]))).toContain('redirectUris[0]');
  });

  it('refuses non-arrays, empty arrays, more than 20 URIs and duplicates', () => {
    expect(problem(() => checkRedirectUris('https://a.example/cb'))).toMatch(/array/);
    expect(problem(() => checkRedirectUris([]))).toMatch(/1 to 20/);
    expect(problem(() => checkRedirectUris(Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`)))).toMatch(/1 to 20/);
    expect(problem(() => checkRedirectUris(['https://a.example/cb', 'https://a.example/cb']))).toMatch(/duplicates/);
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
