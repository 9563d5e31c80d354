import pino from 'pino';
import { createLogger, PinoNestLogger, redactUrl, usesPrettyLogs } from './logger';

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

describe('the console format', () => {
  const base = { logFormat: 'auto', isProduction: false, nodeEnv: 'development' } as Parameters<typeof usesPrettyLogs>[0];

  it('is readable on a terminal in development, JSON when piped, in production and in tests, unless LOG_FORMAT says', () => {
    expect(usesPrettyLogs(base, true)).toBe(true);
    expect(usesPrettyLogs(base, false)).toBe(false);
    expect(usesPrettyLogs({ ...base, isProduction: true, nodeEnv: 'production' }, true)).toBe(false);
    expect(usesPrettyLogs({ ...base, nodeEnv: 'test' }, true)).toBe(false);
    expect(usesPrettyLogs({ ...base, logFormat: 'json' }, true)).toBe(false);
    expect(usesPrettyLogs({ ...base, logFormat: 'pretty' }, false)).toBe(true);
  });

  it("keeps Nest's start-up lines (modules, routes) out of the default level, and its warnings in", () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as { level: number; msg: string }) });
    const nest = new PinoNestLogger(logger);
    nest.log('Mapped {/api/x, GET} route', 'RouterExplorer');
    nest.log('AppModule dependencies initialized', 'InstanceLoader');
    nest.warn('something to look at', 'NestApplication');
    nest.log('relay decision', 'relay');
    expect(lines.map((l) => l.msg)).toEqual(['something to look at', 'relay decision']);
  });
});
