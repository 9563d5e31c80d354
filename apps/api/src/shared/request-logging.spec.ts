import Fastify, { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { Writable } from 'node:stream';
import { createLogger } from '@app/common';
import { loadConfig } from '@app/config';
import { OneLineRequestLog, requestLoggingOptions } from './request-logging';

/** A Fastify app logging through the API's logger into an array of parsed lines. */
async function appLoggingAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({ ...process.env, LOG_LEVEL: level, LOG_FORMAT: 'json' });
  const logger = createLogger(config, 'api', sink);
  const childSpy = jest.spyOn(logger, 'child');
  const app = Fastify({ loggerInstance: logger as unknown as FastifyBaseLogger, genReqId: () => `req-${lines.length}`, ...requestLoggingOptions(logger) });
  app.get('/quiet', () => ({ ok: true }));
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-test-request-id', request.id);
    done(null, payload);
  });
  app.get('/noisy', (request) => {
    request.log.warn({ detail: 'x' }, 'something odd');
    return { ok: true };
  });
  await app.ready();
  return { app, lines, childSpy, logger };
}

describe('request logging', () => {
  it('writes one line per answered request at info: request id, method, redacted URL, status, time', async () => {
    const { app, lines } = await appLoggingAt('info');
    const answer = await app.inject({ method: 'GET', url: '/quiet?code=secret-code&state=s1' });
    expect(answer.statusCode).toBe(200);
    const requestLines = lines.filter((l) => l.msg === 'request completed');
    expect(requestLines).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'incoming request')).toHaveLength(0);
    const [line] = requestLines;
    expect(line.reqId).toEqual(expect.any(String));
    expect(line.req).toMatchObject({ method: 'GET' });
    expect((line.req as { url: string }).url).not.toContain('secret-code');
    expect((line.req as { url: string }).url).toContain('state=s1');
    expect(line.res).toEqual({ statusCode: 200 });
    expect(line.responseTime).toEqual(expect.any(Number));
    await app.close();
  });

  it("names an unrouted request through the redacting serializer, not Fastify's raw URL", async () => {
    const { app, lines } = await appLoggingAt('info');
    expect((await app.inject({ method: 'GET', url: '/missing?code=secret-code' })).statusCode).toBe(404);
    const notFound = lines.find((l) => l.msg === 'route not found');
    expect(notFound?.reqId).toEqual(expect.any(String));
    expect(notFound?.req).toMatchObject({ method: 'GET' });
    expect(JSON.stringify(lines)).not.toContain('secret-code');
    await app.close();
  });

  it('writes a response that failed on the socket as one error line with the error, even when info is off', async () => {
    const { app, lines, logger } = await appLoggingAt('error');
    const request = { id: 'req-failed', method: 'GET', url: '/quiet?code=secret-code', ip: '127.0.0.1' } as unknown as FastifyRequest;
    const reply = { statusCode: 200, elapsedTime: 3 } as unknown as FastifyReply;
    new OneLineRequestLog(logger).requestCompleted(new Error('socket hang up'), request, reply);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'request errored', reqId: 'req-failed', res: { statusCode: 200 }, err: { message: 'socket hang up' } });
    expect(JSON.stringify(lines)).not.toContain('secret-code');
    await app.close();
  });

  it('makes no per-request child logger for a request that logs nothing at the enabled level', async () => {
    const { app, lines, childSpy } = await appLoggingAt('warn');
    childSpy.mockClear();
    await app.inject({ method: 'GET', url: '/quiet' });
    expect(childSpy).not.toHaveBeenCalled();
    expect(lines).toHaveLength(0);
    await app.close();
  });

  it('binds the request id to a line the handler logs, through a child made only then', async () => {
    const { app, lines, childSpy } = await appLoggingAt('warn');
    childSpy.mockClear();
    const answer = await app.inject({ method: 'GET', url: '/noisy' });
    expect(childSpy).toHaveBeenCalledTimes(1);
    const odd = lines.find((l) => l.msg === 'something odd');
    expect(odd).toMatchObject({ level: 40, detail: 'x', reqId: answer.headers['x-test-request-id'] });
    await app.close();
  });
});
