import pino from 'pino';
import { createLogger, redactUrl } from './logger';

describe('redactUrl', () => {
  it('removes credentials from logged URLs and keeps the rest', () => {
    expect(redactUrl('/cb?code=abc123&state=xyz')).toBe('/cb?code=[REDACTED]&state=xyz');
    expect(redactUrl('/oauth/token?client_secret=s3cr3t&client_id=app')).toBe('/oauth/token?client_secret=[REDACTED]&client_id=app');
    expect(redactUrl('/x?access_token=t&refresh_token=r&password=p&_csrf=c')).toBe('/x?access_token=[REDACTED]&refresh_token=[REDACTED]&password=[REDACTED]&_csrf=[REDACTED]');
    expect(redactUrl('/oauth/authorize?client_id=a&code_challenge=E9M')).toBe('/oauth/authorize?client_id=a&code_challenge=E9M');
  });
});

describe('createLogger', () => {
  it('logs database errors without their SQL or parameters', () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'info' } as never, 'test');
    const serializers = (logger as unknown as Record<symbol, Record<string, pino.SerializerFn>>)[pino.symbols.serializersSym];
    const sink = pino({ serializers: { err: serializers.err } }, { write: (l: string) => lines.push(l) });
    const error = Object.assign(new Error('Duplicate entry'), {
      code: 'ER_DUP_ENTRY',
      sql: "INSERT INTO users (password_hash) VALUES ('$argon2id$secret')",
      parameters: ['$argon2id$secret'],
      driverError: { code: 'ER_DUP_ENTRY', errno: 1062, sqlMessage: "Duplicate entry 'someone@example.com'" },
    });
    sink.error({ err: error }, 'failed');
    expect(lines.join('')).toContain('ER_DUP_ENTRY');
    expect(lines.join('')).not.toContain('argon2id');
    expect(lines.join('')).not.toContain('someone@example.com');
  });
});
