import { redactUrl } from './logger';

describe('redactUrl', () => {
  it('removes credentials from logged URLs and keeps the rest', () => {
    expect(redactUrl('/cb?code=abc123&state=xyz')).toBe('/cb?code=[REDACTED]&state=xyz');
    expect(redactUrl('/oauth/token?client_secret=s3cr3t&client_id=app')).toBe('/oauth/token?client_secret=[REDACTED]&client_id=app');
    expect(redactUrl('/x?access_token=t&refresh_token=r&password=p&_csrf=c')).toBe('/x?access_token=[REDACTED]&refresh_token=[REDACTED]&password=[REDACTED]&_csrf=[REDACTED]');
    expect(redactUrl('/oauth/authorize?client_id=a&code_challenge=E9M')).toBe('/oauth/authorize?client_id=a&code_challenge=E9M');
  });
});
