import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/logger.js';
import { ForbiddenError } from '../../../src/core/errors.js';
import { serve, type RunningServer } from '../../../src/http/node-server.js';
import { Router } from '../../../src/http/router.js';
import { json } from '../../../src/http/types.js';
import { waitUntil } from '../../support/wait.js';

// The one router on node:http: JSON errors for everything refused, also what node:http refuses
// before any route sees it; raw and HEAD answers; a client that goes away is no error.

const logged: { level: string; message: string }[] = [];
const log: Logger = {
  debug: (message) => void logged.push({ level: 'debug', message }),
  info: (message) => void logged.push({ level: 'info', message }),
  warn: (message) => void logged.push({ level: 'warn', message }),
  error: (message) => void logged.push({ level: 'error', message }),
  child: () => log,
};

/** Sends raw bytes, returns the raw answer. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

function bodyOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}

describe('the node server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const router = new Router({ log, maxBodyBytes: 1024, authenticator: { framework: async () => ({}), agent: async () => ({}), operator: async () => { throw new ForbiddenError('operators only'); } } });
    router.route('POST', '/echo', async (req) => json(200, { got: req.body.length }));
    router.route('GET', '/bytes', async () => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, raw: Buffer.from('hello\n') }));
    router.route('GET', '/ops', async () => json(200, {}), { access: 'operator' });
    router.route('GET', '/whoami', async (req) => json(200, req.connection ?? {}));
    server = await serve(router, { port: 0 });
  });
  afterAll(() => server.close());

  it("hands routes the TCP connection's ends (the agent knows a local executor by them)", async () => {
    const res = await fetch(`${server.url}/whoami`);
    const ends = (await res.json()) as { remoteAddress: string; remotePort: number; localPort: number };
    expect(ends).toMatchObject({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: server.port });
    expect(ends.remotePort).toBeGreaterThan(0);
  });

  it('answers a request with headers over the limit with a JSON 431', async () => {
    const answer = await raw(server.port, `GET /bytes HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1.1 431 /);
    expect(bodyOf(answer)).toEqual({ error: 'the request headers are too large', field: 'headers' });
  });

  it('answers a garbage request line and a bad Content-Length with a JSON 400', async () => {
    for (const bytes of ['NOT A REQUEST\r\n\r\n', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n']) {
      const answer = await raw(server.port, bytes);
      expect(answer).toMatch(/^HTTP\/1.1 400 /);
      expect(bodyOf(answer)).toMatchObject({ error: expect.stringMatching(/^malformed HTTP request/), field: 'request' });
    }
  });

  it('answers 404, 405 and 413 as JSON naming the field, and checks a route’s access first', async () => {
    const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(await get('/nope')).toEqual({ status: 404, body: { error: 'no such endpoint: GET /nope', field: 'path' } });
    expect(await get('/echo')).toMatchObject({ status: 405, body: { field: 'method' } });
    expect(await get('/echo', { method: 'POST', body: 'x'.repeat(2048) })).toMatchObject({ status: 413, body: { field: 'body' } });
    expect(await get('/ops')).toMatchObject({ status: 403, body: { error: 'operators only', code: 'FORBIDDEN' } });
  });

  it('sends raw answers as they are, and answers HEAD by the GET route without a body', async () => {
    const r = await fetch(`${server.url}/bytes`);
    expect([r.status, r.headers.get('content-type'), await r.text()]).toEqual([200, 'text/plain', 'hello\n']);
    const h = await fetch(`${server.url}/bytes`, { method: 'HEAD' });
    expect([h.status, h.headers.get('content-length'), await h.text()]).toEqual([200, '6', '']);
  });

  it('takes a client that goes away mid-body as a debug event, not an error', async () => {
    logged.length = 0;
    await new Promise<void>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => {
        s.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"partial":');
        setImmediate(() => {
          s.destroy();
          resolve();
        });
      });
    });
    await waitUntil(() => logged.some((l) => l.message === 'client went away mid-request'), 5_000, 'the abort to be logged');
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
    expect(logged.find((l) => l.message === 'client went away mid-request')?.level).toBe('debug');
  });
});
