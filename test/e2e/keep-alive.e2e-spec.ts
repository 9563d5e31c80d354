import { expect } from '@jest/globals';
import http from 'node:http';
import type { Socket } from 'node:net';
import { startApi, TestApp } from '../support/harness';

interface Answer {
  status: number;
  connection: string | undefined;
  socket: Socket;
}

/** GET /health over `agent`; which socket carried it, and what the server said of the connection. */
function get(t: TestApp, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${t.baseUrl}/health`, { agent }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket: req.socket! }));
    });
    req.once('error', reject);
  });
}

async function sequence(t: TestApp, count: number): Promise<Answer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const answers: Answer[] = [];
  try {
    for (let i = 0; i < count; i++) answers.push(await get(t, agent));
  } finally {
    agent.destroy();
  }
  return answers;
}

describe('keep-alive connections are recycled after HTTP_MAX_REQUESTS_PER_SOCKET requests', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ HTTP_MAX_REQUESTS_PER_SOCKET: '3' });
  });
  afterAll(() => t.close());

  it('the 3rd answer on a connection says close, the server closes it, the client goes on over a new one; nothing is refused', async () => {
    const answers = await sequence(t, 7);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.connection)).toEqual(['keep-alive', 'keep-alive', 'close', 'keep-alive', 'keep-alive', 'close', 'keep-alive']);
    const sockets = answers.map((a) => a.socket);
    expect(new Set(sockets).size).toBe(3);
    expect(sockets.slice(0, 3).every((s) => s === sockets[0])).toBe(true);
    expect(sockets.slice(3, 6).every((s) => s === sockets[3])).toBe(true);
  });

  it('a client that ignores "close" finds the connection closed by the server, not a stream of 503s', async () => {
    const { connect } = await import('node:net');
    const url = new URL(t.baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Four requests written at once: the server answers three, then ends the connection.
    socket.write(`GET /health HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`.repeat(4));
    await closed;
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 200, 200]);
  });
});

describe('HTTP_MAX_REQUESTS_PER_SOCKET=0 keeps a connection for as long as the client does', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ HTTP_MAX_REQUESTS_PER_SOCKET: '0' });
  });
  afterAll(() => t.close());

  it('ten requests, one connection, never "close"', async () => {
    const answers = await sequence(t, 10);
    expect(answers.every((a) => a.status === 200 && a.connection === 'keep-alive')).toBe(true);
    expect(new Set(answers.map((a) => a.socket)).size).toBe(1);
  });
});
